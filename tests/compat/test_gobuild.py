"""Go tools as a requirement: built once from a module proxy, reused, skipped with the reason.

The builds here use the real ``go`` against a module proxy served from files
(``GOPROXY=file://…``, https://go.dev/ref/mod#goproxy-protocol) holding a tiny main package,
so they need Go but no network.
"""

from __future__ import annotations

import json
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest

from compat.adapter.errors import AdapterError
from compat.adapter.load import load_adapter
from compat.install import gobuild
from compat.install.errors import GoBuildError
from compat.install.gobuild import GoPackage, build, find_go, first_error, go_env
from compat.runner.toolenv import Missing, Resolved, resolve

MODULE = "example.test/hello"
MAIN = (
    'package main\n\nimport "os"\n\n'
    'func main() { os.Stdout.WriteString("hello " + os.Args[1] + "\\n") }\n'
)


def _publish(proxy: Path, version: str, main: str) -> None:
    """One module version in a file-system module proxy."""
    where = proxy / MODULE / "@v"
    where.mkdir(parents=True, exist_ok=True)
    mod = f"module {MODULE}\n\ngo 1.21\n"
    (where / f"{version}.info").write_text(json.dumps({"Version": version}))
    (where / f"{version}.mod").write_text(mod)
    with zipfile.ZipFile(where / f"{version}.zip", "w") as zf:
        zf.writestr(f"{MODULE}@{version}/go.mod", mod)
        zf.writestr(f"{MODULE}@{version}/cmd/hello/main.go", main)
    versions = sorted(p.name.removesuffix(".info") for p in where.glob("*.info"))
    (where / "list").write_text("\n".join(versions) + "\n")


@pytest.fixture(scope="session")
def go_proxy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if find_go() is None:
        pytest.skip("no Go toolchain (go) on PATH or in /usr/local/go/bin")
    proxy = tmp_path_factory.mktemp("goproxy")
    _publish(proxy, "v1.0.0", MAIN)
    _publish(proxy, "v1.0.1", "package main\n\nfunc main() { undefinedThing() }\n")
    return proxy


@pytest.fixture(scope="session")
def go_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the module's builds, so Go's build cache is warm after the first; laid
    out as ``compat.runner.toolenv.cache_dir() / "go"``."""
    return tmp_path_factory.mktemp("xdg") / "smp-compat" / "go"


@pytest.fixture
def offline_go(go_proxy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOPROXY", f"file://{go_proxy}")
    monkeypatch.setenv("GOSUMDB", "off")
    monkeypatch.setenv("GOTOOLCHAIN", "local")


def test_a_spec_is_a_package_path_at_a_version() -> None:
    package = GoPackage.parse("github.com/kayac/ecspresso/v2/cmd/ecspresso@v2.3.2")
    assert package == GoPackage("github.com/kayac/ecspresso/v2/cmd/ecspresso", "v2.3.2")
    assert str(package) == "github.com/kayac/ecspresso/v2/cmd/ecspresso@v2.3.2"
    for bad in ("ecspresso@v1", "github.com/kayac/ecspresso", "github.com/x/y@1.5.9", "a/b@latest"):
        assert GoPackage.parse(bad) is None, bad


def test_the_reason_is_goes_first_meaningful_line() -> None:
    output = (
        "go: downloading github.com/kayac/ecspresso v1.5.9\n"
        "go: github.com/kayac/ecspresso/cmd/ecspresso@v1.5.9: reading https://u:secret@proxy/x: "
        "403 Forbidden\n"
        "\tserver response: This module version is not available.\n"
        "go: something else\n"
    )
    assert first_error(output) == (
        "go: github.com/kayac/ecspresso/cmd/ecspresso@v1.5.9: the module proxy answered 403 "
        "Forbidden server response: This module version is not available."
    )
    assert first_error("# example.test/x\n./main.go:3:15: undefined: y\n") == (
        "./main.go:3:15: undefined: y"
    )
    assert first_error("go: downloading a v1\n") == "go gave no reason"


def test_go_never_sees_the_kits_aws_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("GOPROXY", "https://goproxy.example")
    monkeypatch.setenv("GOFLAGS", "-tags=evil")
    env = go_env("/opt/go/bin/go", tmp_path)
    assert not [name for name in env if name.startswith("AWS_")]
    assert env["GOPROXY"] == "https://goproxy.example"
    assert env["GOFLAGS"] == "-mod=mod -modcacherw"
    assert env["CGO_ENABLED"] == "0"
    assert env["GOMODCACHE"].startswith(str(tmp_path))
    assert env["PATH"].startswith("/opt/go/bin")


def test_an_adapter_names_a_go_package_at_a_version(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        'name = "t"\nhomepage = "h"\nkind = "ecs-exec"\n[[variant]]\nversion = "1"\nmode = "run"\n'
        'requires = { go = "github.com/me/t@1.0", pypi = "t==1" }\ncommand = ["t"]\n'
    )
    with pytest.raises(AdapterError) as caught:
        load_adapter(path)
    text = str(caught.value)
    assert "expected one of `pypi`, `go`, `npm` or `binary`/`path_env`, found more" in text
    assert "requires.go: expected <package path>@v<version>" in text
    path.write_text(path.read_text().replace(', pypi = "t==1"', "").replace("@1.0", "@v1.0.0"))
    (variant,) = load_adapter(path).variants
    assert variant.requires is not None and variant.requires.go == "github.com/me/t@v1.0.0"


def test_without_go_the_variant_is_skipped_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(gobuild, "find_go", lambda: None)
    adapter = next(a for a in _builtin() if a.name == "ecspresso")
    found = resolve(adapter.variant("1.5.9-run"))
    assert isinstance(found, Missing) and found.code == "requirement-missing"
    assert found.detail.startswith(
        "building github.com/kayac/ecspresso/cmd/ecspresso@v1.5.9 needs Go"
    )
    found = resolve(adapter.variant("1.5.9-run"), install=False)
    assert isinstance(found, Missing) and "is not built (installs disabled)" in found.detail


def _builtin():  # type: ignore[no-untyped-def]
    from compat.adapter.load import load_adapters  # noqa: PLC0415

    return load_adapters()


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.usefixtures("offline_go")
def test_a_build_is_made_once_and_reused(
    go_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = f"{MODULE}/cmd/hello@v1.0.0"
    built: list[Path] = []

    def one() -> None:
        built.append(build(spec, "hello", go_root))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    program = go_root / f"{MODULE}/cmd/hello@v1.0.0" / "bin" / "hello"
    assert built == [program, program]
    err = capsys.readouterr().err
    # Two callers at once: one built under the lock, the other waited and reused it.
    assert err.count("building example.test/hello/cmd/hello@v1.0.0") == 1
    assert "built example.test/hello/cmd/hello@v1.0.0 in " in err
    ran = subprocess.run([program, "go"], check=True, capture_output=True, text=True)
    assert ran.stdout == "hello go\n"
    # Reused: no Go needed any more, no progress line.
    monkeypatch.setattr(gobuild, "find_go", lambda: None)
    assert build(spec, "hello", go_root, install=False) == program
    assert capsys.readouterr().err == ""


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.usefixtures("offline_go")
def test_a_version_the_proxy_lacks_or_a_compile_error_is_the_reason(
    go_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(GoBuildError) as caught:
        build(f"{MODULE}/cmd/hello@v9.9.9", "hello", go_root)
    message = str(caught.value)
    assert message.startswith(f"building {MODULE}/cmd/hello@v9.9.9 failed: go: ")
    assert "v9.9.9" in message and "\n" not in message
    with pytest.raises(GoBuildError) as caught:
        build(f"{MODULE}/cmd/hello@v1.0.1", "hello", go_root)
    assert "undefined: undefinedThing" in str(caught.value)
    assert not (go_root / f"{MODULE}/cmd/hello@v1.0.1" / "bin" / "hello").exists()
    # Go's "no" is final for a while: the next run does not ask again (no go needed).
    monkeypatch.setattr(gobuild, "find_go", lambda: None)
    with pytest.raises(GoBuildError) as again:
        build(f"{MODULE}/cmd/hello@v1.0.1", "hello", go_root)
    # Said alike by the run that met it and by the next (a cell's detail stays put).
    assert str(again.value) == str(caught.value)
    assert "(remembered; delete " in str(again.value)
    marker = go_root / f"{MODULE}/cmd/hello@v1.0.1" / ".smp-compat-failed"
    marker.unlink()
    with pytest.raises(GoBuildError, match="needs Go"):
        build(f"{MODULE}/cmd/hello@v1.0.1", "hello", go_root)


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.usefixtures("offline_go")
def test_a_run_variant_gets_the_built_program(
    go_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("compat.runner.toolenv.cache_dir", lambda: go_root.parent)
    path = tmp_path / "hello.toml"
    path.write_text(
        'name = "hello"\nhomepage = "h"\nkind = "ecs-exec"\n[[variant]]\nversion = "1.0.0"\n'
        f'mode = "run"\nrequires.go = "{MODULE}/cmd/hello@v1.0.0"\ncommand = ["hello"]\n'
    )
    (variant,) = load_adapter(path).variants
    found = resolve(variant)
    assert isinstance(found, Resolved), found
    assert found.program.name == "hello" and found.program.is_file()
    assert found.how == f"built from the Go module proxy ({MODULE}/cmd/hello@v1.0.0)"
