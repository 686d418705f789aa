"""Container fixtures: the engine (skip with its reason), images built from this machine."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compat.runner.container import engine_available
from compat.runner.container.engine import docker_client, own_containers
from compat.runner.container.images import busybox_image, python_image
from compat.runner.container.relay import build_relay
from compat.runner.errors import RelayBuildError
from compat.runner.sandbox import Sandbox

#: A stand-in for the shim, run on the host by the relay server: it reports what it was given.
PROBE = r"""
import json, os, signal, sys, time
args = sys.argv[1:]
mode = args[0] if args else ""
report = {"argv": sys.argv, "env": dict(os.environ), "cwd": os.getcwd(),
          "isatty": [os.isatty(fd) for fd in range(3)], "pid": os.getpid()}
with open(os.environ["PROBE_REPORT"], "w") as handle:
    json.dump(report, handle)
if mode == "echo":      # read N bytes, write them back; a line on stderr
    size, got = int(args[1]), b""
    while len(got) < size:
        chunk = os.read(0, size - len(got))
        if not chunk:
            break
        got += chunk
    sys.stdout.buffer.write(got)
    sys.stderr.write("to-stderr\n")
elif mode == "read-all":  # until EOF
    sys.stdout.buffer.write(b"<" + sys.stdin.buffer.read() + b">")
elif mode == "exit":
    sys.exit(int(args[1]))
elif mode == "die":
    os.kill(os.getpid(), signal.SIGTERM)
elif mode == "trap":     # a forwarded SIGTERM ends it with 7
    signal.signal(signal.SIGTERM, lambda *_: os._exit(7))
    print("ready", flush=True)
    time.sleep(30)
    sys.exit(1)
elif mode == "sleep":
    time.sleep(60)
sys.exit(0)
"""


@pytest.fixture(scope="session")
def engine() -> Any:
    """A Docker SDK client on a working engine, or the test is skipped with the reason."""
    reason = engine_available()
    if reason is not None:
        pytest.skip(reason)
    return docker_client(timeout=120)


@pytest.fixture(scope="session")
def relay_binary() -> Path:
    try:
        return build_relay()
    except RelayBuildError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def busybox(engine: Any) -> str:
    """The busybox-only image (no Python, no shared libraries)."""
    if not Path("/bin/busybox").is_file():
        pytest.skip("no /bin/busybox (apt-get install busybox-static)")
    return busybox_image(engine)


@pytest.fixture(autouse=True)
def _no_leftover_containers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test leaves no container of ours behind, whatever happened.

    Only this process's: other test sessions and kit runs share the engine, and removing their
    running containers killed them with 137 (the flake of test_container_awscli, fixed).
    """
    yield
    if "engine" in request.fixturenames:
        client = request.getfixturevalue("engine")
        left = own_containers(client)
        for container in left:
            container.remove(force=True)
        assert not left, f"containers left behind: {[c.name for c in left]}"


@pytest.fixture
def probe_sandbox(tmp_path: Path) -> Sandbox:
    """A sandbox whose ``session-manager-plugin`` is the probe (not the fake plugin)."""
    bin_dir = tmp_path / "bin"
    home = tmp_path / "home"
    bin_dir.mkdir()
    home.mkdir()
    probe = bin_dir / "session-manager-plugin"
    probe.write_text(f"#!{sys.executable}\n{PROBE}", encoding="utf-8")
    probe.chmod(0o755)
    env = {
        "HOME": str(home),
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "PROBE_REPORT": str(tmp_path / "report.json"),
        "LC_ALL": "C.UTF-8",
    }
    return Sandbox(tmp_path, home, bin_dir, tmp_path / "record.jsonl", env)


def probe_report(sandbox: Sandbox) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((sandbox.root / "report.json").read_text("utf-8"))
    return report


@pytest.fixture(scope="session")
def awscli_image(engine: Any) -> str:
    """This machine's Python and AWS CLI v1 in a busybox rootfs (built once, cached by hash)."""
    try:
        importlib.metadata.distribution("awscli")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("AWS CLI v1 (PyPI awscli) is not installed in this environment")
    if shutil.which("ldd") is None or not Path("/bin/busybox").is_file():
        pytest.skip("building the image needs ldd and /bin/busybox (busybox-static)")
    return python_image(engine, ["awscli"])
