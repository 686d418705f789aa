"""``smp-compat serve`` as a user runs it: a real process, exports to paste, clean stop."""

from __future__ import annotations

import os
import pty
import re
import select
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

pytestmark = pytest.mark.integration

AWS_CLI = Path(sys.executable).parent / "aws"


def _ready_lines(proc: subprocess.Popen[str]) -> list[str]:
    """What serve prints up to and including its "ready" line."""
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("# fake AWS is ready"):
            break
    return lines


def _pasted_env(lines: list[str]) -> dict[str, str]:
    """The environment of a shell the user pasted the export lines into (no AWS files)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
    for line in lines:
        if line.startswith("export "):
            name, value = shlex.split(line[len("export ") :])[0].split("=", 1)
            env[name] = value.replace("$PATH", f"{AWS_CLI.parent}:{env['PATH']}")
    return env


def _in_a_terminal(argv: list[str], env: dict[str, str], typed: bytes) -> str:
    """Run ``argv`` with a pseudo-terminal as stdin/stdout/stderr, as a user's shell would."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    os.write(master, typed)
    seen, deadline = b"", time.monotonic() + 60
    try:
        while select.select([master], [], [], max(0.0, deadline - time.monotonic()))[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the terminal's last writer exited
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    return seen.decode(errors="replace")


def _serve(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.Popen(
        [sys.executable, "-m", "compat", "serve", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
    )  # fmt: skip


@pytest.mark.slow
def test_serve_prints_exports_and_demo_commands_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = _serve("--demo", "--kms", "--region", "eu-central-1", cwd=tmp_path)
    try:
        lines = _ready_lines(proc)
        exports = dict(
            shlex.split(line[len("export ") :])[0].split("=", 1)
            for line in lines
            if line.startswith("export ")
        )
        assert exports["AWS_REGION"] == "eu-central-1"
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", exports["AWS_ENDPOINT_URL"])
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", exports["HTTPS_PROXY"])
        assert Path(exports["AWS_CA_BUNDLE"]).is_file()
        (execute,) = [x for x in lines if x.startswith("aws ecs execute-command ")]
        (start,) = [x for x in lines if x.startswith("aws ssm start-session ")]
        argv = shlex.split(execute)
        cluster, task = argv[argv.index("--cluster") + 1], argv[argv.index("--task") + 1]
        ecs = boto3.client(
            "ecs",
            region_name=exports["AWS_REGION"],
            endpoint_url=exports["AWS_ENDPOINT_URL"],
            aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
        )
        described = ecs.describe_tasks(cluster=cluster, tasks=[task])["tasks"][0]
        assert described["enableExecuteCommand"] is True
        config = ecs.describe_clusters(clusters=[cluster])["clusters"][0]["configuration"]
        assert config["executeCommandConfiguration"]["kmsKeyId"].startswith("arn:aws:kms:")
        assert shlex.split(start)[-1].startswith("i-")
        # One block: the plugin's PATH and the terminal note come with the commands, before
        # "ready"; the plugin on that PATH is the fake one, written by serve itself.
        (path_line,) = [x for x in lines if x.startswith("export PATH=")]
        assert lines.index(path_line) < lines.index(execute) < len(lines) - 1
        assert any("in a terminal" in x for x in lines[lines.index(start) :])
        bin_dir = Path(exports["PATH"].removesuffix(":$PATH"))
        plugin = bin_dir / "session-manager-plugin"
        assert os.access(plugin, os.X_OK)
        done = subprocess.run([plugin, "--version"], capture_output=True, text=True, check=False)
        assert done.stdout.strip() == "1.2.677.0", done.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "fake AWS stopped" in err
    assert not bin_dir.exists(), "serve left its plugin directory behind"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", "nowhere"], "--region 'nowhere' is not a region name (e.g. eu-west-1)"),
        (["--kms"], "--kms only applies to the demo resources; add --demo"),
    ],
)
def test_serve_bad_input_is_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    proc = _serve(*args, cwd=tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err == f"smp-compat serve: error: {message}\n"
    assert out == ""


@pytest.mark.slow
@pytest.mark.skipif(not AWS_CLI.exists(), reason="AWS CLI v1 (PyPI awscli) is not installed here")
def test_the_pasted_demo_runs_a_kms_session_in_a_terminal_and_says_why_not_without(
    tmp_path: Path,
) -> None:
    """The README's try-it-by-hand: paste serve's lines, run its ``aws ecs execute-command``.
    In a terminal the encrypted session runs what is typed; with stdin closed it ends with the
    EOF text that serve's note announces."""
    proc = _serve("--demo", "--kms", cwd=tmp_path)
    try:
        lines = _ready_lines(proc)
        env = _pasted_env(lines)
        (execute,) = [x for x in lines if x.startswith("aws ecs execute-command ")]
        seen = _in_a_terminal(shlex.split(execute), env, b"echo typed-in-the-terminal\nexit\n")
        assert "This session is encrypted using AWS KMS." in seen, seen
        assert "\ntyped-in-the-terminal" in seen.replace("\r", ""), seen
        assert "Exiting session with sessionId: ecs-execute-command-" in seen, seen
        piped = subprocess.run(
            shlex.split(execute), env=env, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert "Cannot perform start session: EOF" in piped.stdout + piped.stderr
        note = " ".join(x for x in lines if "terminal" in x or "EOF" in x)
        assert "Cannot perform start session: EOF" in note
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
