"""The launcher's forked child: it takes the launcher's process state, then runs the plugin.

What ``exec`` would have given the plugin (compat/launcher/server.py describes the protocol
that carries it): the launcher's fds as 0, 1, 2 and its cwd, argv, environment, umask, signal
dispositions and mask, resource limits; and nothing of the server's.
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import signal
import socket
import sys
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Request", "serve_child"]

#: RLIM_INFINITY as the launcher sends it (an unsigned 64-bit all-ones).
_INFINITY_U64 = (1 << 64) - 1


@dataclass
class Request:
    """One plugin start, as the launcher described it."""

    fds: dict[int, int] = field(default_factory=dict)  # 0/1/2 -> received fd
    cwd_fd: int | None = None
    umask: int = 0o022
    ignored: int = 0
    blocked: int = 0
    limits: list[tuple[int, int]] = field(default_factory=list)
    argv: list[bytes] = field(default_factory=list)
    env: dict[bytes, bytes] = field(default_factory=dict)
    config: dict[str, str] = field(default_factory=dict)

    def close_fds(self) -> None:
        for fd in [*self.fds.values(), *([self.cwd_fd] if self.cwd_fd is not None else [])]:
            with contextlib.suppress(OSError):
                os.close(fd)


def _become(request: Request, owned: list[socket.socket]) -> None:
    """In the forked child: take the launcher's process state, drop the server's."""
    os.setsid()  # its own group, killed as one when the launcher goes
    signal.set_wakeup_fd(-1)
    for conn in owned:
        conn.detach()  # the fd is closed below; the object must not close a reused number
    for fd, received in request.fds.items():
        os.dup2(received, fd, inheritable=True)
    for fd in range(3):
        if fd not in request.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
    if request.cwd_fd is not None:
        os.fchdir(request.cwd_fd)
    os.closerange(3, _max_fd())
    os.umask(request.umask)
    for number, (soft, hard) in enumerate(request.limits):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(number, (_limit(soft), _limit(hard)))
    _signals(request.ignored, request.blocked)
    os.environb.clear()
    os.environb.update(request.env)
    sys.argv = [os.fsdecode(arg) for arg in request.argv]
    sys.stdin = _stream(0, "r")
    sys.stdout = _stream(1, "w")
    sys.stderr = _stream(2, "w", errors="backslashreplace")


def _max_fd() -> int:
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return soft if 0 < soft < 1 << 20 else 1 << 16


def _limit(value: int) -> int:
    return resource.RLIM_INFINITY if value == _INFINITY_U64 else value


def _signals(ignored: int, blocked: int) -> None:
    """Dispositions as a freshly started Python would have them under the launcher's."""
    for signum in signal.valid_signals():
        number = int(signum)
        if number in (signal.SIGKILL, signal.SIGSTOP) or number >= 64:
            continue
        if ignored & (1 << number):
            wanted: signal.Handlers | object = signal.SIG_IGN
        elif number == signal.SIGINT:
            wanted = signal.default_int_handler  # Python's own, unless the caller ignored it
        elif number in (signal.SIGPIPE, signal.SIGXFSZ):
            wanted = signal.SIG_IGN  # Python's start-up ignores both
        else:
            wanted = signal.SIG_DFL
        with contextlib.suppress(OSError, ValueError):
            signal.signal(number, wanted)  # type: ignore[arg-type]
    mask = {n for n in range(1, 64) if blocked & (1 << n)}
    signal.pthread_sigmask(signal.SIG_SETMASK, {s for s in mask if s in _VALID})


_VALID = {int(s) for s in signal.valid_signals()}


def _stream(fd: int, mode: str, errors: str = "surrogateescape") -> Any:
    """A ``sys.std*`` object for ``fd`` as Python's start-up makes one (UTF-8 mode); None
    for a closed fd, as Python's start-up does."""
    try:
        binary = io.open(fd, mode + "b", buffering=-1, closefd=False)  # noqa: SIM115, UP020
    except OSError:
        return None
    tty = os.isatty(fd)
    return io.TextIOWrapper(
        binary,
        encoding="utf-8",
        errors=errors,
        line_buffering=tty or fd == 2,
        write_through=fd == 2,
    )


def serve_child(request: Request, owned: list[socket.socket]) -> int:
    from fake_plugin import program  # noqa: PLC0415 - preloaded; bound here for the child

    code = 2
    try:
        _become(request, owned)
        code = program.main(
            release=request.config.get("release") or None,
            record_path=request.config.get("record") or None,
        )
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.write(2, f"{program.PREFIX}: launcher child: {type(exc).__name__}: {exc}\n".encode())
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    return code
