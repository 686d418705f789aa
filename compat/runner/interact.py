"""The user's side of a running tool: the scripted input, a later keystroke, the port probe.

stdin stays open with the scripted input until the process ends, because at EOF a real plugin
ends a shell session (docs/plugin.md §1); a later keystroke (``compat/runner/keystroke.py``)
is typed only while the tool still runs; a port-forwarding session is checked by sending bytes
through the forwarded port and reading them back.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LaterInput", "PortProbe", "Typist", "feed", "probe_port", "stdin_writer"]


@dataclass(frozen=True)
class PortProbe:
    """Connect to ``port`` once it listens, send ``payload``, expect it echoed back."""

    port: int
    payload: bytes


def probe_port(probe: PortProbe, deadline: float, done: Callable[[], bool]) -> bool:
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


class Typist:
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


def stdin_writer(proc: subprocess.Popen[bytes], tty_in: int) -> Callable[[bytes], object]:
    """How to type into the tool: through the pty's master, or into its stdin pipe."""
    if tty_in >= 0:
        return lambda data: os.write(tty_in, data)
    stdin = proc.stdin
    assert stdin is not None
    return lambda data: (stdin.write(data), stdin.flush())


def feed(proc: subprocess.Popen[bytes], tty_in: int, script: bytes) -> None:
    """Write ``script`` to the tool's stdin (the pty when it has one); a closed stdin is fine."""
    if not script:
        return
    with contextlib.suppress(OSError):
        if tty_in >= 0:
            os.write(tty_in, script)
        elif proc.stdin is not None:
            proc.stdin.write(script)
            proc.stdin.flush()
