"""A program archives deep in a PyPI wheel: download, safe extraction, cache, lock, failures.

The wheels are built here and served by pip from a local directory (``PIP_NO_INDEX`` and
``PIP_FIND_LINKS``, which pip reads as it reads its own options); one test downloads the real
AWS CLI v2 bundle and skips when the registry cannot be reached.
"""

from __future__ import annotations

import io
import stat
import subprocess
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from compat.adapter.errors import AdapterError
from compat.adapter.load import load_adapter, load_adapters
from compat.adapter.model import Requirement
from compat.install.errors import BundleError
from compat.install.pypi_bundle import Bundle, program, unpack
from compat.runner.toolenv import Missing, Resolved, resolve

NAME = "smp-bundle-fixture"
PATH = "smp_bundle_fixture/_jsii/*.jsii.tgz!package/lib/layer.zip!tool/v1/*/dist/tool"
STEPS = tuple(PATH.split("!"))
TOOL = b'#!/bin/sh\necho tool/1.0 "$@"\n'


def _zip_entry(zf: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # unix: the high bits of external_attr are st_mode
    info.external_attr = mode << 16
    zf.writestr(info, data)


def layer(extra: dict[str, tuple[bytes, int]] | None = None) -> bytes:
    """The innermost zip: a dist/ directory with the tool, a library, a link, and neighbours."""
    entries: dict[str, tuple[bytes, int]] = {
        "tool/v1/1.0/dist/tool": (TOOL, stat.S_IFREG | 0o755),
        "tool/v1/1.0/dist/lib/data.txt": (b"data\n", stat.S_IFREG | 0o644),
        "tool/v1/1.0/dist/lib/current": (b"data.txt", stat.S_IFLNK | 0o777),
        "tool/v1/1.0/README": (b"not extracted\n", stat.S_IFREG | 0o644),
        "tool/current": (b"v1/1.0", stat.S_IFLNK | 0o777),
        **(extra or {}),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, (data, mode) in entries.items():
            _zip_entry(zf, name, data, mode)
    return out.getvalue()


def wheel(index: Path, version: str, inner: bytes) -> Path:
    """A minimal valid wheel holding ``.jsii.tgz`` → ``package/lib/layer.zip`` = ``inner``."""
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as tf:
        for name, data in (("package/package.json", b"{}"), ("package/lib/layer.zip", inner)):
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tf.addfile(member, io.BytesIO(data))
    dist = f"smp_bundle_fixture-{version}"
    index.mkdir(exist_ok=True)
    path = index / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"smp_bundle_fixture/_jsii/fixture@{version}.jsii.tgz", tgz.getvalue())
        zf.writestr(
            f"{dist}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {version}\n",
        )
        zf.writestr(
            f"{dist}.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        zf.writestr(f"{dist}.dist-info/RECORD", "")
    return path


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local package index pip downloads from; no registry is asked."""
    where = tmp_path / "index"
    where.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(where))
    return where


@pytest.mark.slow
def test_the_program_and_its_directory_are_extracted_once(
    index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel(index, "1.0", layer())
    cache = tmp_path / "cache"
    found = program(Bundle(f"{NAME}==1.0", PATH), cache)
    assert found.name == "tool" and found.parent.parent == cache / "bundles"
    ran = subprocess.run([found, "x"], capture_output=True, check=True)
    assert ran.stdout == b"tool/1.0 x\n"
    assert stat.S_IMODE(found.stat().st_mode) == 0o755
    assert (found.parent / "lib" / "current").readlink() == Path("data.txt")
    assert (found.parent / "lib" / "current").read_text() == "data\n"
    assert not (found.parent / "README").exists()  # only the program's directory
    assert "fetching smp-bundle-fixture==1.0" in capsys.readouterr().err
    # Reused: the index is gone, installs are off, and nothing is fetched again.
    (index / "smp_bundle_fixture-1.0-py3-none-any.whl").unlink()
    assert program(Bundle(f"{NAME}==1.0", PATH), cache, install=False) == found
    assert capsys.readouterr().err == ""
    assert sorted(p.name for p in (cache / "bundles").iterdir()) == [
        found.parent.name,
        f"{found.parent.name}.lock",
    ]


def test_without_installs_a_missing_bundle_is_not_fetched(index: Path, tmp_path: Path) -> None:
    wheel(index, "1.0", layer())
    with pytest.raises(BundleError, match=r"not downloaded yet \(installs disabled\)"):
        program(Bundle(f"{NAME}==1.0", PATH), tmp_path / "cache", install=False)
    assert not (tmp_path / "cache").exists()


@pytest.mark.slow
def test_parallel_resolutions_fetch_once(
    index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel(index, "1.0", layer())
    bundle = Bundle(f"{NAME}==1.0", PATH)
    found: list[Path] = []
    threads = [
        threading.Thread(target=lambda: found.append(program(bundle, tmp_path / "c")))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 3 and len(set(found)) == 1
    assert capsys.readouterr().err.count("fetching") == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"tool/v1/1.0/dist/../../../../escaped": (b"x", stat.S_IFREG | 0o644)},
            "would land outside",
        ),
        (
            {"tool/v1/1.0/dist/lib/out": (b"../../../../etc/passwd", stat.S_IFLNK | 0o777)},
            "refusing link",
        ),
        (
            {"tool/v1/1.0/dist/lib/abs": (b"/etc/passwd", stat.S_IFLNK | 0o777)},
            "refusing link",
        ),
    ],
)
def test_entries_that_would_escape_are_refused(
    tmp_path: Path, extra: dict[str, tuple[bytes, int]], message: str
) -> None:
    archive = wheel(tmp_path / "index", "1.0", layer(extra))
    with pytest.raises(BundleError, match=message):
        unpack(archive, STEPS, tmp_path)
    assert not (tmp_path.parent / "escaped").exists()


def test_a_failed_extraction_leaves_nothing_behind(index: Path, tmp_path: Path) -> None:
    wheel(index, "1.0", layer({"tool/v1/1.0/dist/lib/abs": (b"/etc", stat.S_IFLNK | 0o777)}))
    cache = tmp_path / "cache"
    with pytest.raises(BundleError, match="refusing link"):
        program(Bundle(f"{NAME}==1.0", PATH), cache)
    assert [p.suffix for p in (cache / "bundles").iterdir()] == [".lock"]


def test_a_path_matching_nothing_or_several_entries_says_so(tmp_path: Path) -> None:
    twice = {"tool/v1/2.0/dist/tool": (TOOL, stat.S_IFREG | 0o755)}
    archive = wheel(tmp_path / "index", "1.0", layer(twice))
    with pytest.raises(BundleError, match=r"matches 2 entries \(tool/v1/1.0/dist/tool"):
        unpack(archive, STEPS, tmp_path / "a")
    with pytest.raises(BundleError, match=r"'\*\.whl' matches nothing in smp_bundle_fixture-"):
        unpack(archive, ("*.whl", "x"), tmp_path / "b")


def test_a_program_without_exec_bits_is_refused(tmp_path: Path) -> None:
    plain = {"tool/v1/1.0/dist/tool": (TOOL, stat.S_IFREG | 0o644)}
    archive = wheel(tmp_path / "index", "1.0", layer(plain))
    with pytest.raises(BundleError, match="is not executable"):
        unpack(archive, STEPS, tmp_path)


def _variant_toml(tmp_path: Path, pin: str, match: str = "^tool/1\\\\.0") -> Path:
    path = tmp_path / "fixture.toml"
    path.write_text(
        'name = "fixture"\nhomepage = "https://example.invalid"\nkind = "ecs-exec"\n'
        '[[variant]]\nversion = "1.0"\nmode = "run"\n'
        f'requires = {{ pypi_bundle = "{pin}", bundle_path = "{PATH}", '
        f'path_env = "SMP_COMPAT_TEST_FIXTURE_TOOL", version_args = ["--version"], '
        f'version_match = "{match}" }}\n'
        'command = ["tool", "--cluster", "{cluster}"]\n',
        encoding="utf-8",
    )
    return path


def test_resolve_skips_with_pips_reason_never_passes(
    index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SMP_COMPAT_TEST_FIXTURE_TOOL", raising=False)
    wheel(index, "1.0", layer())
    variant = load_adapter(_variant_toml(tmp_path, f"{NAME}==9.9")).variants[0]
    found = resolve(variant)
    assert isinstance(found, Missing) and found.code == "requirement-missing"
    assert found.detail.startswith(f"pip download {NAME}==9.9 failed: ERROR:")
    assert "9.9" in found.detail and "\n" not in found.detail


def test_resolve_checks_the_version_and_path_env_wins(
    index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SMP_COMPAT_TEST_FIXTURE_TOOL", raising=False)
    wheel(index, "1.0", layer())
    variant = load_adapter(_variant_toml(tmp_path, f"{NAME}==1.0")).variants[0]
    found = resolve(variant)
    assert isinstance(found, Resolved) and found.program.name == "tool"
    assert found.how.startswith(f"{NAME}==1.0 (cached ")
    wrong = load_adapter(_variant_toml(tmp_path, f"{NAME}==1.0", "^tool/2")).variants[0]
    mismatch = resolve(wrong, install=False)
    assert isinstance(mismatch, Missing) and mismatch.code == "version-mismatch"
    mine = tmp_path / "mytool"
    mine.write_text("#!/bin/sh\necho tool/1.0 mine\n")
    mine.chmod(0o755)
    monkeypatch.setenv("SMP_COMPAT_TEST_FIXTURE_TOOL", str(mine))
    assert resolve(variant) == Resolved(mine, (tmp_path,), "$SMP_COMPAT_TEST_FIXTURE_TOOL")


@pytest.mark.parametrize(
    ("requires", "message"),
    [
        ('{ pypi_bundle = "pkg>=1", bundle_path = "a!b" }', "expected an exact pin name==version"),
        ('{ pypi_bundle = "pkg==1" }', "`pypi_bundle` and `bundle_path` go together"),
        ('{ pypi_bundle = "pkg==1", bundle_path = "a!../b" }', "joined by '!'"),
        ('{ pypi_bundle = "pkg==1", bundle_path = "a!!b" }', "joined by '!'"),
        ('{ pypi_bundle = "pkg==1", bundle_path = "a", pypi = "pkg" }', "without `pypi`"),
    ],
)
def test_malformed_bundle_keys_are_named(tmp_path: Path, requires: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "bad"\nhomepage = "h"\nkind = "ecs-exec"\n[[variant]]\nversion = "1"\n'
        f'mode = "run"\nrequires = {requires}\ncommand = ["tool"]\n',
        encoding="utf-8",
    )
    with pytest.raises(AdapterError, match=r"variant\[0\] \(1\)\.requires") as caught:
        load_adapter(path)
    assert message in str(caught.value)


def test_the_requirement_model_defaults_to_no_bundle() -> None:
    assert Requirement(binary="aws").pypi_bundle is None


@pytest.mark.slow
@pytest.mark.integration
def test_the_real_aws_cli_v2_bundle_runs_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Downloads aws-cdk-asset-awscli-v2 (about 70 MB, once per cache) and runs ``aws``."""
    monkeypatch.delenv("SMP_COMPAT_AWSCLI_V2", raising=False)
    variant = next(a for a in load_adapters() if a.name == "awscli-v2").variant("ecs-exec")
    found = resolve(variant)
    if isinstance(found, Missing) and found.detail.startswith("pip download"):
        pytest.skip(f"the registry cannot be reached: {found.detail}")
    assert isinstance(found, Resolved), found
    ran = subprocess.run([found.program, "--version"], capture_output=True, text=True, check=True)
    assert ran.stdout.startswith(f"aws-cli/{variant.version} ")
