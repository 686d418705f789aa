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

This module starts the tool and sees it through; watching and ending its processes is
``compat/runner/launchers.py``'s (jailed or grouped), the user's input and the port probe
``compat/runner/interact.py``'s.
"""

from __future__ import annotations

import contextlib
import os
import pty
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from compat.isolation.jail import allow_installs, hidden_paths, jail_binary, stop_installs
from compat.runner.capture import CUT_NOTE, OUTPUT_CAP, Pump
from compat.runner.errors import Cancelled
from compat.runner.interact import LaterInput, PortProbe, Typist, feed, probe_port, stdin_writer
from compat.runner.launchers import Grouped, Jailed, kill_group

__all__ = [
    "CUT_NOTE",
    "OUTPUT_CAP",
    "Finished",
    "LaterInput",
    "PortProbe",
    "allow_runs",
    "run_process",
    "terminate_all",
]

#: Seconds the processes have between SIGTERM and SIGKILL: a plugin records its end in that time.
GRACE = 5.0
#: ``auto``: the jail makes a namespace where it can; ``subreaper``: never (tests).
JAIL_MODE = "auto"


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
    #: Something outside the tool ended it (its container killed or removed by another engine
    #: user, the OOM killer): the exit status says nothing about the tool.
    harness_error: str | None = None


_live: set[subprocess.Popen[bytes]] = set()
_live_lock = threading.Lock()
_stopping = threading.Event()


def terminate_all() -> None:
    """Stop every running tool and install step (the run was interrupted); no new one starts
    until :func:`allow_runs`. Each :func:`run_process` call still ends its processes as usual."""
    _stopping.set()
    stop_installs()
    with _live_lock:
        procs = list(_live)
    for proc in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)


def allow_runs() -> None:
    """Undo :func:`terminate_all`: a new run starts."""
    _stopping.clear()
    allow_installs()


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
        kill_group(proc.pid, signal.SIGTERM)
    runner: Jailed | Grouped = Jailed(proc, status_r) if jail is not None else Grouped(proc)
    # The pty's pump closes the master at its end: stdin is written through a copy of it.
    tty_in = os.dup(out_r) if tty else -1
    pumps = [Pump(out_r, stdout, OUTPUT_CAP), Pump(err_r, stderr, OUTPUT_CAP)]
    for pump in pumps:
        pump.start()
    roundtrip: bool | None = None
    timed_out = killed = False
    typist: Typist | None = None
    try:
        feed(proc, tty_in, stdin_script)
        if later_input is not None:
            typist = Typist(later_input, stdin_writer(proc, tty_in))
        if probe is not None:
            roundtrip = probe_port(probe, deadline, runner.tool_done)
            timed_out = not roundtrip and time.monotonic() >= deadline
        else:
            timed_out = not runner.wait_tool(deadline)
        # The tool is done (or stopped now): what it left gets to record its end.
        for pump in pumps:
            pump.drain.set()
        killed = runner.end(GRACE)
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


def _finish(
    proc: subprocess.Popen[bytes],
    runner: Jailed | Grouped,
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
