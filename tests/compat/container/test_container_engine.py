"""``run_in_container`` against a real engine: a busybox image with no Python uses the relay.

Skipped, with the reason, when no engine answers (scripts/podman-setup.sh starts one).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from compat.runner.container import ContainerError, engine_available, run_in_container
from compat.runner.container.engine import image_missing, own_containers
from compat.runner.sandbox import Sandbox
from tests.compat.container.conftest import probe_report

pytestmark = pytest.mark.integration

#: Makes a probe start session-shaped (argv of 4+ elements): only then is stdin forwarded.
SESSION_PAD = ["eu-west-1", "StartSession"]
ODD_ARGS = ["a b", '"quoted"', "", "it's", "ü-ñ", "--flag=1", '{"Target": "ecs:c_t_r"}']


def test_the_plugin_on_path_is_the_relay_with_argv_env_cwd(
    busybox: str, probe_sandbox: Sandbox
) -> None:
    env = {**probe_sandbox.env, "ODD": "sp ace='\"q\"'", "EMPTY": ""}
    argv = ["sh", "-c", 'cd "$HOME" && session-manager-plugin "$@"; echo "rc=$?"', "sh"]
    ran = run_in_container(busybox, [*argv, *ODD_ARGS], env, probe_sandbox, timeout=60)
    assert (ran.returncode, ran.stdout, ran.timed_out) == (0, b"rc=0\n", False), ran.stderr
    assert ran.relayed == 1
    report = probe_report(probe_sandbox)
    assert report["argv"][1:] == ODD_ARGS
    assert report["env"]["ODD"] == "sp ace='\"q\"'"
    assert report["env"]["EMPTY"] == ""
    assert report["env"]["HOME"] == str(probe_sandbox.home)
    assert report["env"]["PATH"].startswith("/.smp-compat/bin:")
    assert report["cwd"] == str(probe_sandbox.home)  # the sandbox is at the same path inside
    assert report["isatty"] == [False, False, False]


def test_stdin_stays_open_and_bytes_round_trip(busybox: str, probe_sandbox: Sandbox) -> None:
    data = bytes(range(256)) * 64
    argv = ["session-manager-plugin", "echo", str(len(data)), *SESSION_PAD]
    ran = run_in_container(busybox, argv, probe_sandbox.env, probe_sandbox, stdin=data)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, data, b"to-stderr\n")


def test_an_install_check_leaves_the_stdin_to_the_session_start(
    busybox: str, probe_sandbox: Sandbox
) -> None:
    """The AWS CLI's two plugin starts on one stdin: the first (no argument) reads none of it."""
    data = b"echo marker\nexit\n"
    script = f'session-manager-plugin; session-manager-plugin echo {len(data)} "$@"'
    argv = ["sh", "-c", script, "sh", *SESSION_PAD]
    ran = run_in_container(busybox, argv, probe_sandbox.env, probe_sandbox, stdin=data)
    assert (ran.returncode, ran.stdout, ran.timed_out) == (0, data, False), ran.stderr
    assert ran.relayed == 2


def test_stdin_eof_inside_the_container_reaches_the_plugin(
    busybox: str, probe_sandbox: Sandbox
) -> None:
    argv = ["sh", "-c", "printf 'a b' | session-manager-plugin read-all eu-west-1 StartSession"]
    ran = run_in_container(busybox, argv, probe_sandbox.env, probe_sandbox)
    assert ran.stdout == b"<a b>"


@pytest.mark.parametrize(("mode", "expected"), [("exit 0", 0), ("exit 3", 3), ("die", 143)])
def test_exit_codes_and_signals_come_back(
    busybox: str, probe_sandbox: Sandbox, mode: str, expected: int
) -> None:
    argv = ["sh", "-c", f'session-manager-plugin {mode}; echo "rc=$?"']
    ran = run_in_container(busybox, argv, probe_sandbox.env, probe_sandbox)
    assert ran.stdout == f"rc={expected}\n".encode(), ran.stderr


def test_a_signal_sent_in_the_container_reaches_the_plugin(
    busybox: str, probe_sandbox: Sandbox
) -> None:
    script = 'session-manager-plugin trap & p=$!; sleep 1; kill -TERM "$p"; wait "$p"; echo "rc=$?"'
    ran = run_in_container(busybox, ["sh", "-c", script], probe_sandbox.env, probe_sandbox)
    assert ran.stdout == b"ready\nrc=7\n", ran.stderr


def test_a_tty_container_gives_the_plugin_a_terminal(busybox: str, probe_sandbox: Sandbox) -> None:
    argv = ["session-manager-plugin", "exit", "0"]
    ran = run_in_container(busybox, argv, probe_sandbox.env, probe_sandbox, tty=True)
    assert ran.returncode == 0
    assert probe_report(probe_sandbox)["isatty"] == [True, True, True]


def test_a_timeout_kills_the_container_and_the_plugin(busybox: str, probe_sandbox: Sandbox) -> None:
    started = time.monotonic()
    argv = ["session-manager-plugin", "sleep"]
    ran = run_in_container(busybox, argv, probe_sandbox.env, probe_sandbox, timeout=3)
    assert ran.timed_out
    assert time.monotonic() - started < 20
    pid = probe_report(probe_sandbox)["pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    # _no_leftover_containers (conftest) checks the container is gone.


def test_a_container_killed_from_outside_ends_the_plugin(
    busybox: str, engine: Any, probe_sandbox: Sandbox
) -> None:
    """Someone else (an operator, the engine's OOM killer) kills the container mid-session."""

    def kill_when_running() -> None:
        report = probe_sandbox.root / "report.json"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not report.exists():
            time.sleep(0.05)
        for container in own_containers(engine, include_stopped=False):
            container.kill()

    killer = threading.Thread(target=kill_when_running)
    killer.start()
    argv = ["session-manager-plugin", "sleep"]
    ran = run_in_container(busybox, argv, probe_sandbox.env, probe_sandbox, timeout=60)
    killer.join()
    assert not ran.timed_out
    assert ran.returncode == 137
    assert "SIGKILL (exit 137) that smp-compat did not send" in ran.why_ended
    assert ran.why_ended in ran.stderr.decode()
    pid = probe_report(probe_sandbox)["pid"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the plugin outlived its container")


def test_engine_available_and_image_missing(engine: Any, busybox: str) -> None:
    assert engine_available(busybox) is None
    reason = image_missing(engine, "localhost/smp-compat-no-such-image:0")
    assert reason is not None
    assert "not in the container engine" in reason


def test_a_missing_image_is_a_container_error(engine: Any, probe_sandbox: Sandbox) -> None:
    with pytest.raises(ContainerError, match="creating a container from localhost/smp-compat-no"):
        run_in_container(
            "localhost/smp-compat-no-such-image:0", ["true"], probe_sandbox.env, probe_sandbox
        )


def test_no_engine_is_a_reason_not_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    reason = engine_available()
    assert reason is not None
    assert "does not exist" in reason
    monkeypatch.setenv("DOCKER_HOST", "ssh://builder@example.invalid")
    reason = engine_available()
    assert reason is not None
    assert "not a local engine" in reason


def test_an_engine_that_does_not_answer_is_a_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "mute.sock"
    with socket.socket(socket.AF_UNIX) as mute:
        mute.bind(str(path))
        mute.listen(1)
        monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
        reason = engine_available(timeout=1)
    assert reason is not None
    assert "not answering" in reason or "not reachable" in reason
