"""Code under test sees none of the kit's secrets, outlives no cell, floods nothing (issue 13).

Written as the attacks of issue 13: a tool that reads its parent's environment, PID 1's, every
process's it can see and the invoking user's ``~/.aws``; a variable named by
``requires.path_env`` that holds a secret; a tool that ``setsid``\\ s a daemon and hangs when
the run gets SIGTERM; a tool that kills its parent; ``yes``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from compat.adapter.model import Requirement
from compat.isolation import jail
from compat.isolation.kitenv import HIDE_ENV, scrubbed
from compat.launcher.server import _same_pid_namespace
from compat.runner import process
from compat.runner.process import CUT_NOTE, OUTPUT_CAP, run_process
from compat.runner.toolenv import Missing, _binary
from tests.procscan import running_with

#: Real-looking secrets in the environment of the kit (the shapes AWS and GitHub use).
SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIAQ3EGRJ7REALK3Y7Z",
    "AWS_SECRET_ACCESS_KEY": "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",
    "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEREALSESSIONTOKENxyzzy0123456789",
    "GITHUB_TOKEN": "ghp_R3alL00kingT0kenAbCdEfGhIjKlMnOpQrSt",
}
#: The secret in the invoking user's ~/.aws/credentials.
FILE_SECRET = "Fi1eS3cretFromTheInvokersHomeDir0123456789"

jailed = pytest.mark.skipif(
    jail.isolation().mode != "pidns" or not jail.isolation().hidden,
    reason="this machine allows no PID and mount namespace for the cell jail",
)

#: The attacker: prints LEAK lines for every secret it finds, and what it looked at.
PROBE = """\
import glob, os, sys
secrets = {secrets!r}
sources = {{"own environment": repr(dict(os.environ)).encode()}}
for path in [f"/proc/{{os.getppid()}}/environ", "/proc/1/environ", {creds!r}, {config!r},
             *glob.glob("/proc/[0-9]*/environ"), *glob.glob("/proc/[0-9]*/cmdline")]:
    try:
        with open(path, "rb") as handle:
            sources[path] = handle.read()
    except OSError as exc:
        sources[path] = b""
leaks = [f"LEAK {{where}}" for where, data in sources.items()
         for secret in secrets if secret.encode() in data]
# One line: a version check's mismatch shows the first line in the report.
print("PROBE-RAN", len(sources), "sources; ppid", os.getppid(), ";", "; ".join(leaks) or "no leak")
"""


def _invoker_home(tmp_path: Path) -> Path:
    home = tmp_path / "invoker-home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = AKIAQ3EGRJ7REALK3Y7Z\n"
        f"aws_secret_access_key = {FILE_SECRET}\n"
    )
    (home / ".aws" / "config").write_text("[default]\nregion = eu-west-1\n")
    return home


def _kit_env(tmp_path: Path, home: Path) -> dict[str, str]:
    """The environment a CI job might give the kit."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(SECRETS, HOME=str(home), TMPDIR=str(tmpdir))
    # The kit's cache of built tools stays where it was (it is keyed by $HOME otherwise).
    env.setdefault("XDG_CACHE_HOME", str(Path.home() / ".cache"))
    return env


def _adapter(tmp_path: Path, name: str, script: str, variants: str) -> Path:
    tool = tmp_path / f"{name}.py"
    tool.write_text(f"#!{sys.executable}\n{script}", encoding="utf-8")
    tool.chmod(0o755)
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\nhomepage = "https://example.invalid/{name}"\nkind = "ecs-exec"\n'
        + variants.replace("TOOL", str(tool)),
        encoding="utf-8",
    )
    return path


def _kit(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "compat", "run", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_kit_keeps_only_allowed_variables() -> None:
    env = scrubbed(
        {
            **SECRETS,
            "PATH": "/usr/bin",
            "SMP_COMPAT_AWSCLI_V2": "/opt/aws",
            "PIP_INDEX_URL": "https://pypi.example/simple",
            "AWS_SHARED_CREDENTIALS_FILE": "/home/ci/creds",
            "DATABASE_PASSWORD": "hunter2",
        }
    )
    assert not set(SECRETS.values()) & set(env.values())
    assert "DATABASE_PASSWORD" not in env
    assert env["PATH"] == "/usr/bin" and env["SMP_COMPAT_AWSCLI_V2"] == "/opt/aws"
    assert env["PIP_INDEX_URL"] == "https://pypi.example/simple"
    # The kit's own SDK reads no credentials file; the one named is hidden from tools.
    assert env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    assert env[HIDE_ENV] == "/home/ci/creds"
    assert scrubbed(env) == env  # a second pass (after the re-exec) changes nothing


def test_a_secret_named_by_path_env_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRETS["AWS_SECRET_ACCESS_KEY"])
    found = _binary(Requirement(binary="sh", path_env="AWS_SECRET_ACCESS_KEY"), "sh")
    assert isinstance(found, Missing) and found.code == "requirement-missing"
    assert "$AWS_SECRET_ACCESS_KEY does not name an executable file" in found.detail
    assert SECRETS["AWS_SECRET_ACCESS_KEY"] not in found.detail


@pytest.mark.integration
@pytest.mark.slow
@jailed
def test_a_tool_finds_none_of_the_kits_secrets(tmp_path: Path) -> None:
    home = _invoker_home(tmp_path)
    script = PROBE.format(
        secrets=[*SECRETS.values(), FILE_SECRET],
        creds=str(home / ".aws" / "credentials"),
        config=str(home / ".aws" / "config"),
    )
    # 1.0 runs the probe as the tool; 2.0 runs it as the version check (a mismatch shows
    # its first line in the report); 3.0 names an unset SMP_COMPAT_* path_env (a secret's
    # name is refused at load: test_adapter_hostile).
    variants = textwrap.dedent(
        """\
        [[variant]]
        version = "1.0"
        mode = "run"
        requires.binary = "TOOL"
        command = ["probe", "{command}"]

        [[variant]]
        version = "2.0"
        mode = "run"
        requires = { binary = "TOOL", version_args = ["--version"], version_match = "^2" }
        command = ["probe", "{command}"]

        [[variant]]
        version = "3.0"
        mode = "run"
        requires = { binary = "TOOL", path_env = "SMP_COMPAT_PROBE_UNSET" }
        command = ["probe", "{command}"]
        """
    )
    adapter = _adapter(tmp_path, "probe", script, variants)
    out = tmp_path / "reports"
    kit = _kit(
        [
            "--adapters", str(adapter), "--adapter", "probe", "--scenario", "shell",
            "--release", "1.2.677.0", "--out", str(out), "--keep-evidence",
        ],
        _kit_env(tmp_path, home),
    )  # fmt: skip
    stdout, stderr = kit.communicate(timeout=300)
    assert (out / "matrix.json").exists(), f"exit {kit.returncode}: {stderr[-4000:]}"
    cells = {c["id"]: c for c in json.loads((out / "matrix.json").read_text())["cells"]}
    mismatch = cells["probe/2.0/shell/1.2.677.0"]
    assert mismatch["reason"] == "version-mismatch"
    assert "PROBE-RAN" in mismatch["detail"] and "no leak" in mismatch["detail"], mismatch
    for version in ("1.0", "3.0"):
        evidence = cells[f"probe/{version}/shell/1.2.677.0"]["evidence"]["tool_stdout"]
        said = (out / evidence).read_text()
        assert "PROBE-RAN" in said and "ppid 1" in said, said
        assert "no leak" in said, said
    # Nothing the kit wrote or printed holds a secret either.
    written = [p.read_bytes() for p in out.rglob("*") if p.is_file()]
    for secret in [*SECRETS.values(), FILE_SECRET]:
        assert secret not in stdout + stderr
        assert not any(secret.encode() in data for data in written), secret


HUNG = """\
import os, subprocess, sys, time
marker = {marker!r}
subprocess.Popen(["setsid", sys.executable, "-c",
                  "import socket, time; s = socket.create_server(('127.0.0.1', 0)); "
                  "time.sleep(600)", marker])
open({ready!r}, "w").write("up")
time.sleep(600)
"""


@pytest.mark.integration
@pytest.mark.slow
def test_sigterm_ends_every_process_and_temp_dir_and_keeps_the_report(tmp_path: Path) -> None:
    marker = f"hung-daemon-{time.monotonic_ns()}"
    ready = tmp_path / "ready"
    variants = '[[variant]]\nversion = "1.0"\nmode = "run"\nrequires.binary = "TOOL"\n'
    variants += 'command = ["hung", "{command}"]\n'
    adapter = _adapter(tmp_path, "hung", HUNG.format(marker=marker, ready=str(ready)), variants)
    out = tmp_path / "reports"
    out.mkdir()
    (out / "matrix.json").write_text('{"previous": true}\n')
    (out / "index.html").write_text("previous page\n")
    env = _kit_env(tmp_path, _invoker_home(tmp_path))
    kit = _kit(
        [
            "--adapters", str(adapter), "--adapter", "hung", "--scenario", "shell",
            "--release", "1.2.677.0", "--out", str(out), "--timeout", "300",
        ],
        env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while not ready.exists() and kit.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ready.exists(), kit.stderr.read() if kit.poll() is not None else "no start"
        # The kit re-executed itself: not even its initial environment holds a secret.
        environ = Path(f"/proc/{kit.pid}/environ").read_bytes()
        assert not any(secret.encode() in environ for secret in SECRETS.values())
        assert running_with(marker), "the daemon did not start"
        kit.send_signal(signal.SIGTERM)
        _, stderr = kit.communicate(timeout=60)
    finally:
        if kit.poll() is None:
            kit.kill()
    assert kit.returncode == 130 and "interrupted" in stderr, stderr
    assert "Traceback" not in stderr, stderr
    assert not running_with(marker)
    assert list(Path(env["TMPDIR"]).iterdir()) == []
    assert (out / "matrix.json").read_text() == '{"previous": true}\n'
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "matrix.json"]


def _hung_with_daemon(tmp_path: Path, marker: str) -> list[str]:
    code = (
        "import subprocess, sys, time\n"
        "subprocess.Popen(['setsid', sys.executable, '-c', "
        f"'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)', "
        f"{marker!r}])\n"
        "time.sleep(600)\n"
    )
    return [sys.executable, "-c", code]


@pytest.mark.parametrize("mode", ["auto", "subreaper"])
def test_a_setsid_daemon_ignoring_sigterm_ends_with_its_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    if jail.jail_binary() is None:
        pytest.skip("no C compiler to build the cell jail")
    monkeypatch.setattr(process, "JAIL_MODE", mode)
    monkeypatch.setattr(process, "GRACE", 0.3)
    marker = f"daemon-{mode}-{time.monotonic_ns()}"
    finished = run_process(
        _hung_with_daemon(tmp_path, marker),
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        stdout=tmp_path / "out",
        stderr=tmp_path / "err",
        timeout=1.5,
    )
    assert finished.timed_out and finished.killed
    assert not running_with(marker)


@jailed
def test_a_tool_that_kills_its_parent_and_its_group_ends_normally(tmp_path: Path) -> None:
    # Unjailed, $PPID would be this very test process.
    script = "kill -KILL $PPID; echo survived; kill -TERM 0; sleep 5"
    finished = run_process(
        ["sh", "-c", script],
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        stdout=tmp_path / "out",
        stderr=tmp_path / "err",
        timeout=10,
    )
    # PID 1 of the namespace cannot be killed from inside; the tool's own group can.
    assert (finished.exit_code, finished.timed_out) == (-15, False)
    assert "survived" in (tmp_path / "out").read_text()


@pytest.mark.parametrize(("tty", "cap"), [(False, OUTPUT_CAP), (True, 65536)], ids=["pipe", "tty"])
def test_yes_is_cut_as_written_and_ends_at_its_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tty: bool, cap: int
) -> None:
    # A terminal's line discipline is slow: it gets a smaller cap to reach in the time.
    monkeypatch.setattr(process, "OUTPUT_CAP", cap)
    started = time.monotonic()
    finished = run_process(
        ["yes"],
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        stdout=tmp_path / "out",
        stderr=tmp_path / "err",
        tty=tty,
        timeout=2,
    )
    assert finished.timed_out and finished.truncated == ("stdout",)
    assert time.monotonic() - started < 2 + process.GRACE
    size = (tmp_path / "out").stat().st_size
    note = CUT_NOTE.format(cap=cap).encode()
    assert size == cap + len(note)
    assert (tmp_path / "out").read_bytes().endswith(note)


@pytest.mark.integration
@pytest.mark.slow
def test_a_cell_whose_output_was_cut_says_so(tmp_path: Path) -> None:
    """``yes`` as the tool: its evidence holds only the first 4 MiB, and the cell's detail
    (in matrix.json, the page, JUnit) says so, whatever the verdict."""
    script = 'import os\nos.execvp("yes", ["yes"])\n'
    variants = '[[variant]]\nversion = "1.0"\nmode = "run"\nrequires.binary = "TOOL"\n'
    variants += 'timeout = 3\ncommand = ["yes", "{command}"]\n'
    adapter = _adapter(tmp_path, "flood", script, variants)
    out = tmp_path / "reports"
    kit = _kit(
        [
            "--adapters", str(adapter), "--adapter", "flood", "--scenario", "shell",
            "--release", "1.2.677.0", "--out", str(out), "--keep-evidence",
        ],
        _kit_env(tmp_path, _invoker_home(tmp_path)),
    )  # fmt: skip
    _, stderr = kit.communicate(timeout=300)
    assert (out / "matrix.json").exists(), f"exit {kit.returncode}: {stderr[-4000:]}"
    (cell,) = json.loads((out / "matrix.json").read_text())["cells"]
    assert cell["outcome"] != "pass", cell
    assert f"the tool's stdout was cut at {OUTPUT_CAP} bytes as it was written" in cell["detail"]
    assert "stderr" not in cell["detail"], cell
    kept = (out / cell["evidence"]["tool_stdout"]).read_bytes()
    assert kept.startswith(b"y\ny\n") and kept.endswith(CUT_NOTE.format(cap=OUTPUT_CAP).encode())


@jailed
def test_the_plugin_server_gives_a_jailed_launcher_no_pid(tmp_path: Path) -> None:
    """The launcher signals the served plugin by the pid the server sends; in the cell's PID
    namespace that pid means nothing (a port-forward plugin then waited 5 s for SIGKILL)."""
    path = tmp_path / "server.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen(1)
        here, there = socket.socketpair()
        with here, there:
            assert _same_pid_namespace(here)
        code = (
            f"import socket; s = socket.socket(socket.AF_UNIX); s.connect({str(path)!r}); s.recv(1)"
        )
        seen: list[bool] = []

        def serve() -> None:
            conn, _ = listener.accept()
            with conn:
                seen.append(_same_pid_namespace(conn))
                conn.sendall(b"x")

        server = threading.Thread(target=serve)
        server.start()
        finished = run_process(
            [sys.executable, "-c", code, str(path)],
            env={"PATH": "/usr/bin:/bin"},
            cwd=tmp_path,
            stdout=tmp_path / "out",
            stderr=tmp_path / "err",
            timeout=30,
        )
        server.join(timeout=10)
    assert finished.exit_code == 0, (tmp_path / "err").read_text()
    assert seen == [False]


def test_a_containers_output_is_cut_as_it_arrives(monkeypatch: pytest.MonkeyPatch) -> None:
    from compat.runner.container import engine  # noqa: PLC0415

    monkeypatch.setattr(engine, "OUTPUT_CAP", 10)
    out, err = bytearray(), bytearray()
    frame = b"\x01\x00\x00\x00" + (6).to_bytes(4, "big") + b"yes\nye"
    rest = b""
    for _ in range(1000):  # Docker's multiplexed stream: stdout frames without end
        rest = engine._demux(rest + frame, out, err)
    assert (
        bytes(out)
        == b"yes\nyeyes\n" + b"\n[smp-compat: output cut at 10 bytes as it was written]\n"
    )
    assert err == bytearray()
