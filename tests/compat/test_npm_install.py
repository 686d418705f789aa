"""npm tools as a requirement: installed once from a registry, reused, skipped with the reason.

The installs use the real ``npm`` against a registry served on 127.0.0.1 from files (a
packument and a tarball, https://github.com/npm/registry/blob/main/docs/responses/package-metadata.md),
so they need npm but no network.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from compat.adapter.errors import AdapterError
from compat.adapter.load import load_adapter
from compat.adapter.model import Requirement, Variant
from compat.install import npm
from compat.install.errors import NpmError
from compat.install.npm import NpmPackage, first_error, install
from compat.runner.toolenv import Missing, Resolved, resolve

HELLO_JS = '#!/usr/bin/env node\nprocess.stdout.write("hello " + process.argv[2] + "\\n");\n'


#: Each test package's ``bin`` (its package.json and its packument say the same).
_BINS = {"hello-tool": {"hello": "bin/hello.js"}, "no-bin-tool": {"other": "bin/hello.js"}}


def _tarball(name: str, version: str, bin_name: str) -> bytes:
    assert _BINS[name] == {bin_name: "bin/hello.js"}
    files = {
        "package/package.json": json.dumps({"name": name, "version": version, "bin": _BINS[name]}),
        "package/bin/hello.js": HELLO_JS,
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class _Registry(BaseHTTPRequestHandler):
    """``GET /<name>`` answers the packument, ``GET /<name>/-/<file>.tgz`` the tarball."""

    files: ClassVar[dict[str, bytes]] = {}
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        body = self.files.get(self.path)
        if body is None:
            self.send_response(404)
            body = b'{"error":"Not found"}'
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def registry() -> Iterator[str]:
    if shutil.which("npm") is None:
        pytest.skip("no npm on PATH")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    tgz = _tarball("hello-tool", "1.0.0", "hello")
    broken = _tarball("no-bin-tool", "2.0.0", "other")
    _Registry.files = {
        "/hello-tool/-/hello-tool-1.0.0.tgz": tgz,
        "/no-bin-tool/-/no-bin-tool-2.0.0.tgz": broken,
    }
    for name, version, data in (("hello-tool", "1.0.0", tgz), ("no-bin-tool", "2.0.0", broken)):
        manifest = {"name": name, "version": version, "bin": _BINS[name]}
        manifest["dist"] = {
            "tarball": f"{url}/{name}/-/{name}-{version}.tgz",
            "shasum": hashlib.sha1(data).hexdigest(),
        }
        _Registry.files[f"/{name}"] = json.dumps(
            {"name": name, "dist-tags": {"latest": version}, "versions": {version: manifest}}
        ).encode()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture
def local_registry(registry: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("npm_config_registry", registry + "/")
    _Registry.hits.clear()
    return registry


def test_a_pin_is_a_name_at_an_exact_version() -> None:
    assert NpmPackage.parse("basti@1.8.0") == NpmPackage("basti", "1.8.0")
    assert NpmPackage.parse("@scope/tool@2.0.0-rc.1") == NpmPackage("@scope/tool", "2.0.0-rc.1")
    for bad in ("basti", "basti@latest", "basti@^1.8.0", "basti@1.8", "Basti@1.8.0", "@x@1.0.0"):
        assert NpmPackage.parse(bad) is None, bad


def test_the_reason_is_npms_first_meaningful_line_without_the_registry_url() -> None:
    output = (
        "npm error code E404\n"
        "npm error 404 Not Found - GET https://user:secret@registry.example/basti - Not found\n"
        "npm error 404\n"
        "npm error A complete log of this run can be found in: /root/.npm/_logs/x.log\n"
    )
    reason = first_error(output)
    assert reason == "404 Not Found - GET <registry> - Not found"
    assert "secret" not in reason
    assert first_error("") == "npm gave no reason"


@pytest.mark.integration
@pytest.mark.slow
def test_a_package_is_installed_once_then_reused(local_registry: str, tmp_path: Path) -> None:
    program = install("hello-tool@1.0.0", "hello", tmp_path)
    assert program == tmp_path / "hello-tool@1.0.0" / "node_modules" / ".bin" / "hello"
    assert any(hit.endswith(".tgz") for hit in _Registry.hits)
    _Registry.hits.clear()
    assert install("hello-tool@1.0.0", "hello", tmp_path, allowed=False) == program
    assert _Registry.hits == []
    # Nothing half-written is left beside the installed package.
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".npm")) == [
        "hello-tool@1.0.0",
        "hello-tool@1.0.0.lock",
    ]


@pytest.mark.integration
@pytest.mark.slow
def test_refusals_are_one_line_reasons_remembered(local_registry: str, tmp_path: Path) -> None:
    with pytest.raises(NpmError) as refused:
        install("absent-tool@1.0.0", "absent", tmp_path)
    assert str(refused.value).startswith("npm install absent-tool@1.0.0 failed: ")
    assert "404" in str(refused.value)
    assert local_registry not in str(refused.value)
    assert "\n" not in str(refused.value)
    _Registry.hits.clear()
    with pytest.raises(NpmError, match="remembered") as again:
        install("absent-tool@1.0.0", "absent", tmp_path)
    assert _Registry.hits == []
    assert str(again.value) == str(refused.value)  # the run that met it said the same
    with pytest.raises(NpmError, match="installed no program hello"):
        install("no-bin-tool@2.0.0", "hello", tmp_path)
    assert not (tmp_path / "no-bin-tool@2.0.0").exists()


def test_installs_disabled_or_no_npm_is_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(NpmError, match="installs disabled"):
        install("basti@1.8.0", "basti", tmp_path, allowed=False)
    monkeypatch.setattr(npm.shutil, "which", lambda _name: None)
    with pytest.raises(NpmError, match="needs npm"):
        install("basti@1.8.0", "basti", tmp_path)


def test_npm_never_gets_the_kits_aws_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    env = npm.npm_env("/usr/bin/npm", Path("/cache"))
    assert not any(name.startswith("AWS_") for name in env)
    assert env["npm_config_registry"] == "http://127.0.0.1:9/"
    assert env["HOME"] == "/cache/.npm/home"


def _write(tmp_path: Path, requires: str, extra: str = "") -> Path:
    path = tmp_path / "tool.toml"
    path.write_text(
        'name = "tool"\nhomepage = "https://example.test"\nkind = "ssm-session"\n\n'
        f'[[variant]]\nversion = "1.0.0"\nmode = "run"\nrequires = {requires}\n{extra}'
    )
    return path


def test_the_loader_wants_an_exact_npm_pin(tmp_path: Path) -> None:
    good = load_adapter(
        _write(tmp_path, '{ npm = "hello-tool@1.0.0" }', 'command = ["hello", "{instance_id}"]\n')
    )
    assert good.variants[0].requires == Requirement(npm="hello-tool@1.0.0")
    with pytest.raises(AdapterError, match=r"requires\.npm: expected an exact pin"):
        load_adapter(
            _write(tmp_path, '{ npm = "hello-tool@^1" }', 'command = ["hello", "{instance_id}"]\n')
        )
    with pytest.raises(AdapterError, match="found more"):
        load_adapter(
            _write(
                tmp_path,
                '{ npm = "hello-tool@1.0.0", go = "example.test/x@v1.0.0" }',
                'command = ["hello"]\n',
            )
        )


@pytest.mark.integration
@pytest.mark.slow
def test_an_npm_requirement_resolves_to_the_installed_program(
    local_registry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = _write(
        tmp_path, '{ npm = "hello-tool@1.0.0" }', 'command = ["hello", "{instance_id}"]\n'
    )
    variant: Variant = load_adapter(path).variants[0]
    found = resolve(variant)
    assert isinstance(found, Resolved), found
    assert found.program == tmp_path / "smp-compat" / "npm" / "hello-tool@1.0.0" / (
        "node_modules/.bin/hello"
    )
    assert found.how == "installed from npm (hello-tool@1.0.0)"
    missing = resolve(load_adapter(_write(tmp_path, '{ npm = "absent-tool@1.0.0" }',
                                          'command = ["absent"]\n')).variants[0])  # fmt: skip
    assert isinstance(missing, Missing) and "404" in missing.detail


def test_unavailable_skips_whatever_is_installed(tmp_path: Path) -> None:
    why = "starts the plugin only from its terminal UI"
    variant = load_adapter(
        _write(tmp_path, f'{{ unavailable = "{why}" }}', 'command = ["sh", "-c", "true"]\n')
    ).variants[0]
    assert resolve(variant) == Missing("requirement-missing", why)


def test_a_port_forwarding_only_tool_has_no_shell_launch(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '{ npm = "hello-tool@1.0.0" }',
        'port_forward.command = ["hello", "{local_port}", "{remote_port}"]\n',
    )
    variant = load_adapter(path).variants[0]
    assert sorted(variant.launches) == ["port-forward"]
    assert not variant.supports("shell")
    assert variant.source is None
    assert variant.requires == Requirement(npm="hello-tool@1.0.0")
