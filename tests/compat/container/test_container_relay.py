"""The relay protocol on the host: the static relay run directly against a RelayServer.

No container engine needed (only gcc): the relay finds the socket through
``SMP_COMPAT_RELAY_SOCKET``, which it does not forward. A start that reads stdin is
session-shaped (argv of 4 or more elements, :data:`SESSION_PAD` after the probe's arguments):
shorter ones are the plugin's print-and-exit branches, whose stdin the relay leaves alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from compat.runner.container.relay import (
    RELAY_SOURCE,
    STDIN_MIN_ARGV,
    RelayServer,
    encode_frame,
    read_frame,
)
from compat.runner.sandbox import Sandbox
from tests.compat.container.conftest import probe_report

#: Arguments the probe ignores that make a start session-shaped (``<response> <region>
#: StartSession`` in a real one): the host lets the relay forward stdin only then.
SESSION_PAD = ["eu-west-1", "StartSession"]


def relay_run(
    server: RelayServer,
    argv: list[str],
    sandbox: Sandbox,
    *,
    stdin: bytes | int = b"",
) -> subprocess.CompletedProcess[bytes]:
    """The relay run to its end; ``stdin`` is bytes to feed or a file descriptor to inherit."""
    assert server.directory is not None
    env = {**sandbox.env, "SMP_COMPAT_RELAY_SOCKET": str(server.directory / "relay.sock")}
    relay = server.directory / "bin" / "session-manager-plugin"
    if isinstance(stdin, int):
        fd, data = stdin, None
    else:
        fd, data = None, stdin
    return subprocess.run(
        argv,
        executable=relay,
        stdin=fd,
        input=data,
        capture_output=True,
        env=env,
        timeout=30,
        check=False,
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
    argv = ["smp", "echo", str(len(data)), *SESSION_PAD]
    done = relay_run(server, argv, probe_sandbox, stdin=data)
    assert (done.returncode, done.stdout, done.stderr) == (0, data, b"to-stderr\n")


def test_stdin_eof_is_forwarded(server: RelayServer, probe_sandbox: Sandbox) -> None:
    done = relay_run(server, ["smp", "read-all", *SESSION_PAD], probe_sandbox, stdin=b"abc")
    assert done.stdout == b"<abc>"


@pytest.mark.parametrize(
    "first",
    [["smp"], ["smp", "--version"], ["smp", "x", "y"]],
    ids=["install-check", "version", "unknown-operation"],
)
def test_a_start_without_a_session_leaves_stdin_to_the_next(
    server: RelayServer, probe_sandbox: Sandbox, first: list[str]
) -> None:
    """The AWS CLI's install check then its session start, sharing the CLI's stdin pipe.

    On a host the first plugin prints and exits without reading, and the second gets the
    scripted input; a relay that read eagerly would lose it with the first shim.
    """
    read, write = os.pipe()
    try:
        os.write(write, b"echo marker\nexit\n")
        os.close(write)
        write = -1
        check = relay_run(server, first, probe_sandbox, stdin=read)
        assert (check.returncode, check.stdout, check.stderr) == (0, b"", b"")
        assert probe_report(probe_sandbox)["argv"][1:] == first[1:]
        start = relay_run(server, ["smp", "read-all", *SESSION_PAD], probe_sandbox, stdin=read)
    finally:
        os.close(read)
        if write >= 0:
            os.close(write)
    assert start.stdout == b"<echo marker\nexit\n>"
    assert server.connections == 2


@pytest.mark.parametrize("argc", [1, 2, 3, STDIN_MIN_ARGV, STDIN_MIN_ARGV + 3])
def test_the_host_wants_stdin_only_for_a_session_shaped_argv(
    server: RelayServer, probe_sandbox: Sandbox, argc: int
) -> None:
    """'G' comes first, and only when argv has 4 or more elements (``session.go:145-161``)."""
    assert server.directory is not None
    argv = [b"smp", b"x", b"y", b"eu-west-1", b"StartSession", b"a", b"b"][:argc]  # exit 0
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(str(server.directory / "relay.sock"))
        frames = [encode_frame(b"A", arg) for arg in argv]
        frames += [encode_frame(b"V", f"{k}={v}".encode()) for k, v in probe_sandbox.env.items()]
        conn.sendall(b"".join([*frames, encode_frame(b"R")]))
        kinds = []
        while (frame := read_frame(conn)) is not None:
            kinds.append(frame[0])
    assert kinds == ([b"G", b"X"] if argc >= STDIN_MIN_ARGV else [b"X"])


def test_stdin_before_stdin_is_wanted_is_refused(
    server: RelayServer, probe_sandbox: Sandbox
) -> None:
    assert server.directory is not None
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(str(server.directory / "relay.sock"))
        frames = [encode_frame(b"A", b"smp"), encode_frame(b"A", b"sleep")]
        frames += [encode_frame(b"V", f"{k}={v}".encode()) for k, v in probe_sandbox.env.items()]
        conn.sendall(b"".join([*frames, encode_frame(b"R"), encode_frame(b"I", b"early")]))
        frame = read_frame(conn)
    assert frame is not None
    assert frame[0] == b"F"
    assert b"before 'G'" in frame[1]


def test_the_relay_compiles_without_warnings(tmp_path: Path) -> None:
    """``gcc -Wall -Wextra`` has nothing to say about relay.c (the build uses plain -Os)."""
    cc = shutil.which("gcc")
    if cc is None:
        pytest.skip("no gcc")
    argv = [cc, "-static", "-Os", "-s", "-Wall", "-Wextra", "-o", str(tmp_path / "relay")]
    done = subprocess.run([*argv, str(RELAY_SOURCE)], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")


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
