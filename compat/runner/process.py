"""Run one tool process: jailed, output capped as written, a timeout, a port probe.

Every process a tool starts is ended with its cell. Under the cell jail (compat/runner/jail.c)
they live in a PID namespace of their own (or under a child subreaper), so a daemon that
``setsid``\\ s away is still found; without the jail (no C compiler) the tool gets a process
group of its own, which such a daemon escapes (docs/isolation.md). stdin stays open with the
scripted input until the process ends, because at EOF a real plugin ends a shell session
(docs/plugin.md §1).

Ending is what makes the plugin's record complete when :func:`run_process` returns: whatever
still runs once the tool is done (or stopped) gets SIGTERM, and the call waits until all of it
is gone, not only the tool. The fake plugin and the ``--real`` wrapper write their record in
their SIGTERM handler; killing with SIGKILL as soon as the tool had exited lost that record
(issue 9 item 1: a port-forward cell read as ``plugin-not-called``). SIGKILL comes only after
:data:`GRACE`, and :attr:`Finished.killed` says so, because then a record may be missing.

stdout and stderr go through pipes into files capped at :data:`OUTPUT_CAP` as they are
written (issue 13 item 8: ``yes`` wrote 2.2 GB in 3 s): past the cap the kit stops reading, so
the writer waits until the cell ends, and the file ends with :data:`CUT_NOTE`.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from compat.evidence.procs import group_members
from compat.isolation.jail import hidden_paths, jail_binary
from compat.runner.capture import CUT_NOTE, OUTPUT_CAP, Pump

__all__ = [
    "CUT_NOTE",
    "OUTPUT_CAP",
    "Cancelled",
    "Finished",
    "PortProbe",
    "allow_runs",
    "run_process",
    "terminate_all",
]

#: Seconds the processes have between SIGTERM and SIGKILL: a plugin records its end in that time.
GRACE = 5.0
#: How often the group is looked at while it ends (unjailed).
_POLL = 0.02
#: ``auto``: the jail makes a namespace where it can; ``subreaper``: never (tests).
JAIL_MODE = "auto"


class Cancelled(RuntimeError):
    """The run is being stopped (SIGINT, SIGTERM, SIGHUP): no new process starts."""


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
    #: Some process outlived SIGTERM and :data:`GRACE` and was SIGKILLed: it wrote no
    #: record, so the records may lack a start.
    killed: bool = False
    #: The streams cut at :data:`OUTPUT_CAP` (``"stdout"``, ``"stderr"``).
    truncated: tuple[str, ...] = ()


_live: set[subprocess.Popen[bytes]] = set()
_live_lock = threading.Lock()
_stopping = threading.Event()


def terminate_all() -> None:
    """Stop every running tool (the run was interrupted); no new one starts until
    :func:`allow_runs`. Each :func:`run_process` call still ends its processes as usual."""
    _stopping.set()
    with _live_lock:
        procs = list(_live)
    for proc in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)


def allow_runs() -> None:
    """Undo :func:`terminate_all`: a new run starts."""
    _stopping.clear()


class _Jailed:
    """The tool under ``jail.c``: its status lines say when the tool exited and how."""

    def __init__(self, proc: subprocess.Popen[bytes], status: int) -> None:
        self.proc, self.status = proc, status
        self.fields: dict[str, str] = {}
        self._buffer = b""

    def _read(self, timeout: float) -> bool:
        """Read what status lines arrive within ``timeout``; False at EOF."""
        ready, _, _ = select.select([self.status], [], [], max(0.0, timeout))
        if not ready:
            return True
        chunk = os.read(self.status, 4096)
        if not chunk:
            return False
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            key, _, value = line.decode("ascii", "replace").partition(" ")
            self.fields[key] = value
        return True

    def _said(self) -> bool:
        return "exit" in self.fields or "error" in self.fields

    def tool_done(self) -> bool:
        """Whether the tool has ended (or the jail has: then nothing more will)."""
        return self._said() or not self._read(0) or self._said()

    def wait_tool(self, deadline: float) -> bool:
        """Whether the tool ended (or the jail did) before ``deadline``."""
        while not self._said():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if not self._read(min(left, 0.5)):
                return True
        return True

    def end(self) -> bool:
        """Stop what still runs (the jail gives it :data:`GRACE`), wait for the jail; whether
        SIGKILL was needed."""
        if not self._said() and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
        # The jail's last line comes once all of it is gone, then it exits.
        deadline = time.monotonic() + GRACE + 5
        while "end" not in self.fields and time.monotonic() < deadline:
            if not self._read(deadline - time.monotonic()):
                break
        if "end" not in self.fields:
            self.kill()
            return True
        self.proc.wait()
        return self.fields["end"] != "0"

    def kill(self) -> None:
        # The jail's PID 1 dies with it (PR_SET_PDEATHSIG), and with PID 1 its namespace.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def exit_code(self) -> int | None:
        value = self.fields.get("exit")
        return int(value) if value is not None else None

    def error(self) -> OSError | None:
        value = self.fields.get("error")
        if value is None:
            return None
        number = int(value)
        return OSError(number, os.strerror(number))


class _Grouped:
    """The tool in a process group of its own (no jail on this machine)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

    def tool_done(self) -> bool:
        return self.proc.poll() is not None

    def wait_tool(self, deadline: float) -> bool:
        try:
            self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return False
        return True

    def _running(self) -> bool:
        return self.proc.poll() is None or bool(group_members(self.proc.pid))

    def end(self) -> bool:
        if not self._running():
            return False
        _kill_group(self.proc.pid, signal.SIGTERM)
        grace = time.monotonic() + GRACE
        while self._running():
            if time.monotonic() >= grace:
                self.kill()
                return True
            time.sleep(_POLL)
        return False

    def kill(self) -> None:
        _kill_group(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def exit_code(self) -> int | None:
        return self.proc.returncode

    def error(self) -> OSError | None:
        return None


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _probe(probe: PortProbe, deadline: float, done: Callable[[], bool]) -> bool:
    """Whether the payload made the round trip through the forwarded port (gives up when the
    tool has exited or at the deadline)."""
    while time.monotonic() < deadline and not done():
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


def _stdin_writer(proc: subprocess.Popen[bytes], tty_in: int) -> Callable[[bytes], object]:
    """How to type into the tool: through the pty's master, or into its stdin pipe."""
    if tty_in >= 0:
        return lambda data: os.write(tty_in, data)
    stdin = proc.stdin
    assert stdin is not None
    return lambda data: (stdin.write(data), stdin.flush())


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
    """Run ``argv`` to its end (or stop it at ``timeout``); output goes to capped files.

    ``env`` is the whole environment the tool gets. ``executable`` runs a different file
    than ``argv[0]`` names (a replay keeps the release's spelling of argv[0]). With
    ``probe``, the process is stopped once the probe is done. ``later_input`` types more
    after the script, when it decides (a user pressing Enter). On return, every process the
    tool started has ended (see the module docstring).

    Raises:
        Cancelled: the run is being stopped.
        OSError: the program could not be started.
    """
    if _stopping.is_set():
        raise Cancelled("the run is being stopped")
    started = time.monotonic()
    deadline = started + timeout
    jail = jail_binary()
    status_r, status_w, command, executable = _command(jail, argv, executable)
    proc, out_r, err_r = _spawn(command, executable, env, cwd, tty, status_r, status_w)
    with _live_lock:
        _live.add(proc)
    if _stopping.is_set():  # stopped between the check above and now
        _kill_group(proc.pid, signal.SIGTERM)
    runner: _Jailed | _Grouped = _Jailed(proc, status_r) if jail is not None else _Grouped(proc)
    # The pty's pump closes the master at its end: stdin is written through a copy of it.
    tty_in = os.dup(out_r) if tty else -1
    pumps = [Pump(out_r, stdout, OUTPUT_CAP), Pump(err_r, stderr, OUTPUT_CAP)]
    for pump in pumps:
        pump.start()
    roundtrip: bool | None = None
    timed_out = killed = False
    typist: _Typist | None = None
    try:
        _feed(proc, tty_in, stdin_script)
        if later_input is not None:
            typist = _Typist(later_input, _stdin_writer(proc, tty_in))
        if probe is not None:
            roundtrip = _probe(probe, deadline, runner.tool_done)
            timed_out = not roundtrip and time.monotonic() >= deadline
        else:
            timed_out = not runner.wait_tool(deadline)
        # The tool is done (or stopped now): what it left gets to record its end.
        for pump in pumps:
            pump.drain.set()
        killed = runner.end()
    finally:
        if typist is not None:
            typist.close()
        _finish(proc, runner, pumps, (status_r, tty_in))
    error = runner.error()
    if error is not None:
        error.filename = str(argv[0])
        raise error
    truncated = tuple(n for n, p in zip(("stdout", "stderr"), pumps, strict=True) if p.truncated)
    return Finished(
        runner.exit_code(), timed_out, time.monotonic() - started, roundtrip, killed, truncated
    )


def _command(
    jail: Path | None, argv: Sequence[str], executable: str | None
) -> tuple[int, int, list[str], str | None]:
    """The command line to start, through the jail when there is one, with its status pipe."""
    if jail is None:
        return -1, -1, list(argv), executable
    status_r, status_w = os.pipe()
    hide = hidden_paths()
    program = executable or argv[0]
    grace = str(round(GRACE * 1000))
    command = [str(jail), str(status_w), grace, JAIL_MODE, str(len(hide)), *hide]
    return status_r, status_w, [*command, program, "--", *argv], None


def _spawn(
    command: list[str],
    executable: str | None,
    env: Mapping[str, str],
    cwd: Path,
    tty: bool,
    status_r: int,
    status_w: int,
) -> tuple[subprocess.Popen[bytes], int, int]:
    """Start ``command`` in a session of its own; the read ends of its stdout and stderr."""
    out_r, out_w = pty.openpty() if tty else os.pipe()
    err_r, err_w = os.pipe()
    try:
        proc = subprocess.Popen(
            command,
            executable=executable,
            stdin=out_w if tty else subprocess.PIPE,
            stdout=out_w,
            stderr=err_w,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            pass_fds=(status_w,) if status_w >= 0 else (),
        )
    except OSError:
        for fd in (out_r, err_r, status_r):
            if fd >= 0:
                os.close(fd)
        raise
    finally:
        for fd in (out_w, err_w, status_w):
            if fd >= 0:
                os.close(fd)
    return proc, out_r, err_r


def _feed(proc: subprocess.Popen[bytes], tty_in: int, script: bytes) -> None:
    """Write ``script`` to the tool's stdin (the pty when it has one); a closed stdin is fine."""
    if not script:
        return
    with contextlib.suppress(OSError):
        if tty_in >= 0:
            os.write(tty_in, script)
        elif proc.stdin is not None:
            proc.stdin.write(script)
            proc.stdin.flush()


def _finish(
    proc: subprocess.Popen[bytes],
    runner: _Jailed | _Grouped,
    pumps: Sequence[Pump],
    fds: Sequence[int],
) -> None:
    """Whatever happened: the group stopped, the pumps joined, the descriptors closed."""
    for pump in pumps:
        pump.drain.set()
    if proc.poll() is None:  # only on an exception in run_process
        runner.kill()
    with _live_lock:
        _live.discard(proc)
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    for pump in pumps:
        pump.join(timeout=2)
    for fd in fds:
        if fd >= 0:
            os.close(fd)
