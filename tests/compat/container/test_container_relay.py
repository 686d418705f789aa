"""The relay protocol on the host: the static relay run directly against a RelayServer.

No container engine needed (only gcc): the relay finds the socket through
``SMP_COMPAT_RELAY_SOCKET``, which it does not forward.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from compat.container.relay import RelayServer, encode_frame, read_frame
from compat.sandbox import Sandbox
from tests.compat.container.conftest import probe_report


def relay_run(
    server: RelayServer, argv: list[str], sandbox: Sandbox, *, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    assert server.directory is not None
    env = {**sandbox.env, "SMP_COMPAT_RELAY_SOCKET": str(server.directory / "relay.sock")}
    relay = server.directory / "bin" / "session-manager-plugin"
    return subprocess.run(
        argv, executable=relay, input=stdin, capture_output=True, env=env, timeout=30, check=False
    )


@pytest.fixture
def server(relay_binary: Path, probe_sandbox: Sandbox) -> Iterator[RelayServer]:
    target = probe_sandbox.bin_dir / "session-manager-plugin"
    with RelayServer(target, relay_binary, fallback_cwd=probe_sandbox.root) as running:
        yield running


ODD_ARGS = ["a b", '"quoted"', "", "it's", "ü-ñ", "x\ty", "--flag=1", '{"Target": "ecs:c_t_r"}']


def test_argv_env_and_cwd_arrive_unchanged(server: RelayServer, probe_sandbox: Sandbox) -> None:
    probe_sandbox.env["ODD"] = "sp ace='\"q\"'"
    probe_sandbox.env["EMPTY"] = ""
    done = relay_run(server, ["session-manager-plugin", *ODD_ARGS], probe_sandbox)
    assert done.returncode == 0, done.stderr
    report = probe_report(probe_sandbox)
    assert report["argv"][1:] == ODD_ARGS
    assert report["env"]["ODD"] == "sp ace='\"q\"'"
    assert report["env"]["EMPTY"] == ""
    assert report["env"]["HOME"] == probe_sandbox.env["HOME"]
    assert "SMP_COMPAT_RELAY_SOCKET" not in report["env"]
    assert report["isatty"] == [False, False, False]
    assert server.connections == 1


def test_stdio_bytes_round_trip(server: RelayServer, probe_sandbox: Sandbox) -> None:
    data = bytes(range(256)) * 800  # 200 KiB, NULs and high bytes included
    done = relay_run(server, ["smp", "echo", str(len(data))], probe_sandbox, stdin=data)
    assert (done.returncode, done.stdout, done.stderr) == (0, data, b"to-stderr\n")


def test_stdin_eof_is_forwarded(server: RelayServer, probe_sandbox: Sandbox) -> None:
    done = relay_run(server, ["smp", "read-all"], probe_sandbox, stdin=b"abc")
    assert done.stdout == b"<abc>"


@pytest.mark.parametrize("code", [0, 1, 3, 255])
def test_exit_code(server: RelayServer, probe_sandbox: Sandbox, code: int) -> None:
    assert relay_run(server, ["smp", "exit", str(code)], probe_sandbox).returncode == code


def test_a_signal_death_is_reproduced(server: RelayServer, probe_sandbox: Sandbox) -> None:
    assert relay_run(server, ["smp", "die"], probe_sandbox).returncode == -signal.SIGTERM


def test_signals_to_the_relay_reach_the_plugin(server: RelayServer, probe_sandbox: Sandbox) -> None:
    assert server.directory is not None
    env = {**probe_sandbox.env, "SMP_COMPAT_RELAY_SOCKET": str(server.directory / "relay.sock")}
    proc = subprocess.Popen(
        ["smp", "trap"],
        executable=server.directory / "bin" / "session-manager-plugin",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 7
    proc.stdout.close()
    assert proc.stdin is not None
    proc.stdin.close()


def test_no_server_is_one_line_and_exit_255(tmp_path: Path, relay_binary: Path) -> None:
    env = {"SMP_COMPAT_RELAY_SOCKET": str(tmp_path / "nothing.sock")}
    done = subprocess.run([relay_binary], env=env, capture_output=True, check=False)
    assert done.returncode == 255
    assert done.stderr.startswith(b"session-manager-plugin (smp-compat relay): ")
    assert done.stderr.count(b"\n") == 1


def test_a_dropped_connection_kills_the_plugin(server: RelayServer, probe_sandbox: Sandbox) -> None:
    """What a killed container looks like from the host: the shim's group is killed."""
    assert server.directory is not None
    report = probe_sandbox.root / "report.json"
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(str(server.directory / "relay.sock"))
        frames = [encode_frame(b"A", b"smp"), encode_frame(b"A", b"sleep")]
        frames += [encode_frame(b"V", f"{k}={v}".encode()) for k, v in probe_sandbox.env.items()]
        conn.sendall(b"".join([*frames, encode_frame(b"R")]))
        assert _eventually(lambda: report.exists() and report.stat().st_size > 0)
        pid = probe_report(probe_sandbox)["pid"]
    assert _eventually(lambda: not _alive(pid)), "the shim outlived its relay's connection"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _eventually(check: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_an_unknown_frame_is_refused(server: RelayServer) -> None:
    assert server.directory is not None
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(str(server.directory / "relay.sock"))
        conn.sendall(encode_frame(b"Z", b"?"))
        frame = read_frame(conn)
    assert frame is not None
    assert frame[0] == b"F"
    assert b"unexpected frame" in frame[1]
