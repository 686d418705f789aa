"""How a tool's processes are watched and ended: under the cell jail, or as a process group.

Under the jail (``compat/isolation/jail.c``) status lines on a pipe say when the tool exited
and when all of its namespace is gone, so a daemon that ``setsid``\\ s away is still ended;
without a jail (no C compiler) the tool's process group is signalled and polled, which such a
daemon escapes (docs/isolation.md). Both stop with SIGTERM first and SIGKILL only after a grace
(``compat.runner.process.GRACE``), in which a plugin records its end.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time

from compat.evidence.procs import group_members

__all__ = ["Grouped", "Jailed", "kill_group"]

#: How often the group is looked at while it ends (unjailed).
_POLL = 0.02


class Jailed:
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

    def end(self, grace: float) -> bool:
        """Stop what still runs (the jail gives it ``grace`` seconds), wait for the jail;
        whether SIGKILL was needed."""
        if not self._said() and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
        # The jail's last line comes once all of it is gone, then it exits.
        deadline = time.monotonic() + grace + 5
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


class Grouped:
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

    def end(self, grace: float) -> bool:
        """SIGTERM to the group, SIGKILL after ``grace`` seconds; whether SIGKILL was needed."""
        if not self._running():
            return False
        kill_group(self.proc.pid, signal.SIGTERM)
        until = time.monotonic() + grace
        while self._running():
            if time.monotonic() >= until:
                self.kill()
                return True
            time.sleep(_POLL)
        return False

    def kill(self) -> None:
        kill_group(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def exit_code(self) -> int | None:
        return self.proc.returncode

    def error(self) -> OSError | None:
        return None


def kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
