"""The native launcher and the warm plugin server: a served start behaves as a process start.

Real parts throughout: the compiled launcher, the server process, forked plugins writing real
records. The per-release behaviour (goldens, records) is checked through both launchers by
``tests/fake_plugin`` (its ``shims`` fixture is parametrized over them).
"""

from __future__ import annotations

import os
import pty
import signal
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compat.errors import UserError
from compat.evidence.records import read_records, unfinished
from compat.launcher import (
    CONF_NAME,
    SHIM_DIR,
    Launcher,
    PluginServer,
    build_launcher,
    write_launcher,
)
from compat.launcher.shim import write_shim
from compat.runner.sandbox import make_sandbox
from tests.launcher_stage import HANGING_START, RELEASE, plugin_server

__all__ = ["plugin_server"]

STARTING = b"\nStarting session with SessionId: sess-9\n"
RECORDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


@pytest.fixture
def plugin(plugin_server: PluginServer, tmp_path: Path) -> tuple[Path, Path]:
    """(the launcher in a bin dir, its record file)."""
    assert plugin_server.launcher is not None
    record = tmp_path / "record.jsonl"
    return write_launcher(
        tmp_path / "bin", plugin_server.launcher, release=RELEASE, record=record
    ), record


def _env(**extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LC_ALL": "C.UTF-8", **extra}


def _records(path: Path) -> list[dict[str, Any]]:
    """One record per plugin start: its start and end lines merged, as the runner reads them."""
    return read_records(path)


def _served_children(server: PluginServer) -> set[int]:
    """The server's live child processes (the plugins it is serving)."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == server.pid and fields[0] != "Z":
            children.add(int(entry.name))
    return children


def _wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def _catches(pid: int, sig: int) -> bool:
    """Whether process ``pid`` has a handler for ``sig`` (its SigCgt mask)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(status.split("SigCgt:", 1)[1].split()[0], 16)
    return bool(caught & (1 << (sig - 1)))


def _start_hanging(
    launcher: Path, server: PluginServer, **kwargs: object
) -> tuple[subprocess.Popen[bytes], int]:
    """The launcher running :data:`HANGING_START`, and the pid of the plugin served for it,
    once that plugin records kills (its session handlers are in: program._record_on_signals).
    """
    before = _served_children(server)
    proc = subprocess.Popen(
        [str(launcher), *HANGING_START],
        env=_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,  # type: ignore[call-overload]
    )
    assert proc.stdout is not None
    out = b""
    deadline = time.monotonic() + 20
    while STARTING not in out and time.monotonic() < deadline:
        out += os.read(proc.stdout.fileno(), 4096)
    assert STARTING in out
    [child] = _served_children(server) - before
    assert _wait_for(lambda: all(_catches(child, s) for s in RECORDED))
    return proc, child


@pytest.mark.integration
def test_argv_env_cwd_and_umask_arrive(plugin: tuple[Path, Path], tmp_path: Path) -> None:
    launcher, record = plugin
    work = tmp_path / "work dir"
    work.mkdir()
    proc = subprocess.run(
        [str(launcher), "op", "é x"],
        env=_env(AWS_REGION="eu-west-3", UNRELATED="1"),
        cwd=work,
        capture_output=True,
        check=False,
        preexec_fn=lambda: os.umask(0o277),
    )
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert proc.stdout.startswith(b"\nUnknown operation op. \n")
    [line] = _records(record)
    assert line["argv"] == [str(launcher), "op", "é x"]  # argv[0]: as a shim gets it
    assert line["cwd"] == str(work)
    assert line["env"] == {"AWS_REGION": "eu-west-3", "HOME": "/tmp", "PATH": "/usr/bin:/bin"}
    # The record file was created by the plugin under the caller's umask (0600 & ~0277).
    assert record.stat().st_mode & 0o777 == 0o400


@pytest.mark.integration
def test_a_terminal_stays_a_terminal(plugin: tuple[Path, Path]) -> None:
    launcher, record = plugin
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [str(launcher), "--version"], env=_env(), stdin=slave, capture_output=True, check=False
        )
    finally:
        os.close(slave)
        os.close(master)
    assert proc.stdout == f"{RELEASE}\n".encode()
    subprocess.run([str(launcher), "--version"], env=_env(), stdin=subprocess.DEVNULL, check=True)
    assert [r["stdin_isatty"] for r in _records(record)] == [True, False]


@pytest.mark.integration
@pytest.mark.parametrize("redirect", ["<&-", ">&-", "2>&-"])
def test_a_closed_std_fd_stays_closed(plugin: tuple[Path, Path], redirect: str) -> None:
    """A caller that closes fd 0, 1 or 2: the plugin has it closed too (not the launcher's
    socket in its place), and its writes fail as Go's would (ignored)."""
    launcher, record = plugin
    proc = subprocess.run(
        ["/bin/sh", "-c", f"exec '{launcher}' --version {redirect}"],
        env=_env(),
        capture_output=True,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert proc.stdout == (b"" if redirect == ">&-" else f"{RELEASE}\n".encode())
    [line] = _records(record)
    assert line["stdout"] == f"{RELEASE}\n" and line["exit_code"] == 0


@pytest.mark.integration
@pytest.mark.parametrize("sig", RECORDED)
def test_a_signal_to_the_launcher_is_the_plugins(
    plugin: tuple[Path, Path], plugin_server: PluginServer, sig: int
) -> None:
    launcher, record = plugin
    proc, _child = _start_hanging(launcher, plugin_server)
    proc.send_signal(sig)
    proc.communicate(timeout=20)
    assert proc.returncode == -sig  # died of it, as the plugin did
    [line] = _records(record)
    assert line["signal"] == signal.Signals(sig).name and line["exit_code"] is None
    assert line["stdout"] == STARTING.decode()


@pytest.mark.integration
def test_killing_the_launcher_kills_the_served_plugin(
    plugin: tuple[Path, Path], plugin_server: PluginServer
) -> None:
    launcher, record = plugin
    proc, child = _start_hanging(launcher, plugin_server)
    proc.kill()  # SIGKILL: the launcher cannot forward it
    proc.communicate(timeout=20)
    assert _wait_for(lambda: child not in _served_children(plugin_server))
    # Killed -9: no end line, as with a direct start; only the start line said it began.
    assert all(unfinished(r) for r in _records(record))


@pytest.mark.integration
def test_killing_the_callers_group_ends_everything(
    plugin: tuple[Path, Path], plugin_server: PluginServer
) -> None:
    """The runner kills a cell's process group: the plugin the launcher stood for goes too."""
    launcher, _record = plugin
    proc, child = _start_hanging(launcher, plugin_server, start_new_session=True)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=20)
    assert _wait_for(lambda: child not in _served_children(plugin_server))


@pytest.mark.integration
def test_without_the_server_the_shim_runs(tmp_path: Path, plugin_server: PluginServer) -> None:
    assert plugin_server.launcher is not None
    gone = Launcher(plugin_server.launcher.binary, tmp_path / "no-server.sock")
    record = tmp_path / "record.jsonl"
    launcher = write_launcher(tmp_path / "bin", gone, release="1.2.497.0", record=record)
    proc = subprocess.run(
        [str(launcher), "--version"], env=_env(), capture_output=True, check=False
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"1.2.497.0\n", b"")
    [line] = _records(record)
    assert line["release"] == "1.2.497.0" and line["branch"] == "version"
    assert line["argv"][0] == str(launcher.parent / SHIM_DIR / "session-manager-plugin")


@pytest.mark.integration
def test_a_server_still_starting_is_no_failure(tmp_path: Path) -> None:
    """``start(wait=False)``: launchers run their shim until the server listens, then not."""
    server = PluginServer(build_launcher()).start(wait=False)
    try:
        assert server.launcher is not None
        record = tmp_path / "record.jsonl"
        launcher = write_launcher(tmp_path / "bin", server.launcher, release=RELEASE, record=record)
        for _ in range(2):
            done = subprocess.run(
                [str(launcher), "--version"], env=_env(), capture_output=True, check=False
            )
            assert (done.returncode, done.stdout) == (0, f"{RELEASE}\n".encode())
            # The socket appears listening (server.py renames it into place).
            _wait_for(server.launcher.socket.exists, timeout=60)
    finally:
        server.stop()
    _first, second = _records(record)
    assert second["argv"][0] == str(launcher)  # served (a shim start names the shim)


@pytest.mark.integration
def test_a_deep_tmpdir_still_gets_a_served_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``$TMPDIR`` too deep for a unix socket (xdist's ``tmp_path`` nearly is) is no failure:
    the server's socket goes elsewhere and starts are still served, not left to the shim."""
    deep = tmp_path / ("d" * 90)
    deep.mkdir()
    monkeypatch.setenv("TMPDIR", str(deep))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    with PluginServer(build_launcher()) as server:
        assert server.launcher is not None
        assert len(str(server.launcher.socket)) + len(".new") <= 107
        record = tmp_path / "record.jsonl"
        launcher = write_launcher(tmp_path / "bin", server.launcher, release=RELEASE, record=record)
        done = subprocess.run(
            [str(launcher), "--version"], env=_env(), capture_output=True, check=False
        )
    assert (done.returncode, done.stdout) == (0, f"{RELEASE}\n".encode())
    [line] = _records(record)
    assert line["argv"][0] == str(launcher)  # served (a shim start names the shim)


@pytest.mark.integration
def test_without_a_configuration_it_says_so(tmp_path: Path, plugin: tuple[Path, Path]) -> None:
    launcher, _record = plugin
    (launcher.parent / CONF_NAME).unlink()
    proc = subprocess.run(
        [str(launcher), "--version"], env=_env(), capture_output=True, check=False
    )
    assert proc.returncode == 255 and proc.stdout == b""
    assert proc.stderr.count(b"\n") == 1 and CONF_NAME.encode() in proc.stderr


@pytest.mark.integration
def test_starts_run_in_parallel(plugin: tuple[Path, Path], plugin_server: PluginServer) -> None:
    """One hanging start does not hold the server: the next is served at once."""
    launcher, record = plugin
    hanging, _child = _start_hanging(launcher, plugin_server)
    try:
        done = subprocess.run(
            [str(launcher), "--version"], env=_env(), capture_output=True, timeout=20, check=False
        )
        assert done.stdout == f"{RELEASE}\n".encode()
    finally:
        hanging.terminate()
        hanging.communicate(timeout=20)
    # In the order they started (the runner's reading: a start line, then its end).
    assert [r["branch"] for r in _records(record)] == ["start-session-legacy", "version"]


@pytest.mark.integration
def test_the_server_ends_with_its_owner(tmp_path: Path) -> None:
    """Closing the server's stdin (its owner's end) stops it and the plugins it serves."""
    server = PluginServer(build_launcher()).start()
    assert server.launcher is not None
    record = tmp_path / "record.jsonl"  # recording: the plugin then catches SIGTERM
    launcher = write_launcher(tmp_path / "bin", server.launcher, release=RELEASE, record=record)
    proc, child = _start_hanging(launcher, server)
    server.stop()
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 255 and b"plugin server ended the start" in err
    assert not Path(f"/proc/{child}").exists() or _zombie(child)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_shim_can_replace_the_launcher_and_back(
    tmp_path: Path, plugin_server: PluginServer
) -> None:
    assert plugin_server.launcher is not None
    write_launcher(tmp_path, plugin_server.launcher, release=RELEASE)
    write_shim(tmp_path, release=RELEASE)
    write_launcher(tmp_path, plugin_server.launcher, release=RELEASE)
    (tmp_path / "session-manager-plugin").unlink()
    (tmp_path / "session-manager-plugin").write_text("#!/bin/sh\n")
    with pytest.raises(UserError, match="not written by smp-compat"):
        write_launcher(tmp_path, plugin_server.launcher, release=RELEASE)


def test_the_sandbox_takes_the_launcher(tmp_path: Path, plugin_server: PluginServer) -> None:
    assert plugin_server.launcher is not None
    sandbox = make_sandbox(tmp_path, {}, release=RELEASE, launcher=plugin_server.launcher)
    plugin = sandbox.bin_dir / "session-manager-plugin"
    assert plugin.read_bytes() == plugin_server.launcher.binary.read_bytes()
    conf = (sandbox.bin_dir / CONF_NAME).read_text()
    assert f"record={sandbox.record_file}\n" in conf and f"release={RELEASE}\n" in conf
    proc = subprocess.run(
        [str(plugin), "--version"], env=sandbox.env, capture_output=True, check=False
    )
    assert proc.stdout == f"{RELEASE}\n".encode()
    assert [r["branch"] for r in sandbox.records()] == ["version"]


@pytest.mark.parametrize("copy", [False, True], ids=["hard-link", "copy"])
def test_symlinks_planted_in_the_bin_dir_are_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copy: bool
) -> None:
    """issue 13: the old temp name was predictable and the configuration was written through
    whatever stood at its name; a link there gave its target the launcher and mode 755."""
    binary = tmp_path / "built-launcher"
    binary.write_bytes(b"\x7fELF launcher")
    binary.chmod(0o755)
    bin_dir, victim = tmp_path / "bin", tmp_path / "victim"
    bin_dir.mkdir()
    victim.write_text("precious\n")
    victim.chmod(0o600)
    planted = [
        bin_dir / CONF_NAME,
        bin_dir / f".session-manager-plugin.{os.getpid()}.{threading.get_ident()}.tmp",
    ]
    for link in planted:
        link.symlink_to(victim)
    if copy:  # another file system: no hard link, the bytes are copied

        def no_link(*args: object) -> None:
            raise OSError(18, "Invalid cross-device link")

        monkeypatch.setattr(os, "link", no_link)
    target = write_launcher(bin_dir, Launcher(binary, tmp_path / "sock"), release=RELEASE)
    assert victim.read_text() == "precious\n"
    assert stat.S_IMODE(victim.stat().st_mode) == 0o600
    assert target.read_bytes() == binary.read_bytes() and not target.is_symlink()
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    conf = bin_dir / CONF_NAME
    assert not conf.is_symlink() and f"release={RELEASE}\n" in conf.read_text()
    # Nothing of ours is left beside them: the private temp directories are gone.
    assert sorted(p.name for p in bin_dir.iterdir()) == sorted(
        [CONF_NAME, SHIM_DIR, "session-manager-plugin", planted[1].name]
    )
