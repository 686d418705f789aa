"""Run one tool process: its own process group, a pipe or a pty, a timeout, a port probe.

A cell's process group is ended as a whole (the tool and every plugin it started), so a hung
tool never outlives its cell; stdin stays open with the scripted input until the process ends,
because at EOF a real plugin ends a shell session (docs/plugin.md §1).

Ending the group is what makes the plugin's record complete when :func:`run_process` returns:
whatever of the group still runs once the tool is done (or stopped) gets SIGTERM, and the call
waits until every member is gone, not only the tool. The fake plugin and the ``--real``
wrapper write their record in their SIGTERM handler; killing the group with SIGKILL as soon as
the tool had exited lost that record (issue 9 item 1: a port-forward cell read as
``plugin-not-called``). SIGKILL comes only after :data:`GRACE`, and :attr:`Finished.killed`
says so, because then a record may be missing.
"""

from __future__ import annotations

import contextlib
import os
import pty
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from compat.evidence.procs import group_members

__all__ = ["Finished", "PortProbe", "run_process"]

#: Seconds the group has between SIGTERM and SIGKILL: a plugin records its end in that time.
GRACE = 5.0
#: How often the group is looked at while it ends.
_POLL = 0.02


@dataclass(frozen=True)
class PortProbe:
    """Connect to ``port`` once it listens, send ``payload``, expect it echoed back."""

    port: int
    payload: bytes


@dataclass(frozen=True)
class Finished:
    """How the process ended."""

    exit_code: int | None
    timed_out: bool
    duration_s: float
    #: ``None`` without a probe; else whether the payload came back.
    port_roundtrip: bool | None = None
    #: Some process of the group outlived SIGTERM and :data:`GRACE` and was SIGKILLed: it
    #: wrote no record, so the records may lack a start.
    killed: bool = False


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _running(proc: subprocess.Popen[bytes]) -> bool:
    """Whether the tool or anything else of its group still runs (zombies do not count)."""
    return proc.poll() is None or bool(group_members(proc.pid))


def _end_group(proc: subprocess.Popen[bytes]) -> bool:
    """SIGTERM what of the group still runs, wait until all of it is gone; SIGKILL after
    :data:`GRACE`. Returns whether SIGKILL was needed."""
    if not _running(proc):
        return False
    _kill_group(proc.pid, signal.SIGTERM)
    grace = time.monotonic() + GRACE
    while _running(proc):
        if time.monotonic() >= grace:
            _kill_group(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(_POLL)
    return False


def _probe(probe: PortProbe, deadline: float, proc: subprocess.Popen[bytes]) -> bool:
    """Whether the payload made the round trip through the forwarded port (gives up when the
    process has exited or at the deadline)."""
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", probe.port), timeout=2) as conn:
                conn.settimeout(max(0.5, min(10.0, deadline - time.monotonic())))
                conn.sendall(probe.payload)
                got = b""
                while probe.payload not in got:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    got += chunk
                return probe.payload in got
        except OSError:
            time.sleep(0.05)
    return False


def _pump(master: int, out: Path) -> None:
    with out.open("ab") as handle:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            handle.write(data)


#: ``later(stop)``: blocks until the user would type more, returns the bytes (``None``: nothing);
#: it must return soon after ``stop`` is set (the process ended).
LaterInput = Callable[[threading.Event], bytes | None]


class _Typist:
    """Types what ``later`` returns into the tool's stdin, unless the tool has ended: the
    descriptor is written under a lock that :meth:`close` takes before it may be closed."""

    def __init__(self, later: LaterInput, write: Callable[[bytes], object]) -> None:
        self._later, self._write = later, write
        self._stop = threading.Event()
        self._lock = threading.Lock()
        threading.Thread(target=self._run, name="cell-typist", daemon=True).start()

    def _run(self) -> None:
        data = self._later(self._stop)
        with self._lock:
            if data and not self._stop.is_set():
                with contextlib.suppress(OSError, ValueError):
                    self._write(data)

    def close(self) -> None:
        with self._lock:
            self._stop.set()


def run_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    stdout: Path,
    stderr: Path,
    stdin_script: bytes = b"",
    tty: bool = False,
    timeout: float = 60.0,
    executable: str | None = None,
    probe: PortProbe | None = None,
    later_input: LaterInput | None = None,
) -> Finished:
    """Run ``argv`` to its end (or kill its group at ``timeout``); output goes to files.

    ``executable`` runs a different file than ``argv[0]`` names (a replay keeps the release's
    spelling of argv[0]). With ``probe``, the process is stopped once the probe is done.
    ``later_input`` types more after the script, when it decides (a user pressing Enter). On
    return, every process of the tool's group has ended (see the module docstring).
    """
    started = time.monotonic()
    deadline = started + timeout
    master = slave = -1
    pump: threading.Thread | None = None
    typist: _Typist | None = None
    with stderr.open("wb") as err:
        if tty:
            master, slave = pty.openpty()
            stdin_arg: int = slave
            stdout_arg: int = slave
        else:
            stdin_arg = subprocess.PIPE
            out_handle = stdout.open("wb")
            stdout_arg = out_handle.fileno()
        try:
            proc = subprocess.Popen(
                list(argv),
                executable=executable,
                stdin=stdin_arg,
                stdout=stdout_arg,
                stderr=err,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,
            )
        except OSError:
            if tty:
                os.close(master)
                os.close(slave)
            else:
                out_handle.close()
            raise
        if tty:
            os.close(slave)
            stdout.write_bytes(b"")
            pump = threading.Thread(target=_pump, args=(master, stdout), name="cell-pty")
            pump.start()
            if stdin_script:
                with contextlib.suppress(OSError):
                    os.write(master, stdin_script)
            if later_input is not None:
                typist = _Typist(later_input, lambda data: os.write(master, data))
        else:
            out_handle.close()
            assert proc.stdin is not None
            if stdin_script:
                with contextlib.suppress(OSError):
                    proc.stdin.write(stdin_script)
                    proc.stdin.flush()
            if later_input is not None:
                stdin = proc.stdin
                typist = _Typist(later_input, lambda data: (stdin.write(data), stdin.flush()))
        roundtrip: bool | None = None
        timed_out = killed = False
        try:
            if probe is not None:
                roundtrip = _probe(probe, deadline, proc)
                timed_out = not roundtrip and time.monotonic() >= deadline
            else:
                try:
                    proc.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    timed_out = True
            # The tool is done (or stopped now): the plugins it left get to record their end.
            killed = _end_group(proc)
        finally:
            if typist is not None:
                typist.close()
            # Only on an exception above: nothing of the group outlives the call.
            if proc.poll() is None or group_members(proc.pid):
                _kill_group(proc.pid, signal.SIGKILL)
                proc.wait()
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            if pump is not None:
                pump.join(timeout=2)
                with contextlib.suppress(OSError):
                    os.close(master)
    return Finished(proc.returncode, timed_out, time.monotonic() - started, roundtrip, killed)
