"""The fake plugin's stdout and stderr: every byte goes through one Console so the record has it."""

from __future__ import annotations

import os

from fake_plugin.errors import BrokenPipe

#: Text is encoded like ``os.fsencode`` so that argv bytes echoed back (``Unknown operation
#: <args[1]>``) reach the caller unchanged, as Go's ``fmt.Fprintf`` writes them.
_ENCODING = "utf-8"
_ERRORS = "surrogateescape"


class Console:
    """Writes straight to fds 1 and 2 (unbuffered, so nothing is lost at a kill) and captures."""

    def __init__(self, stdout_fd: int = 1, stderr_fd: int = 2, *, echo: bool = True) -> None:
        self._fds = (stdout_fd, stderr_fd)
        self._echo = echo
        self._out: list[str] = []
        self._err: list[str] = []

    def out(self, text: str) -> None:
        """Write ``text`` to stdout, at once, and keep a copy."""
        self._out.append(text)
        self._write(self._fds[0], text)

    def err(self, text: str) -> None:
        """Write ``text`` to stderr, at once, and keep a copy."""
        self._err.append(text)
        self._write(self._fds[1], text)

    @property
    def stdout_text(self) -> str:
        """Everything written to stdout so far."""
        return "".join(self._out)

    @property
    def stderr_text(self) -> str:
        """Everything written to stderr so far."""
        return "".join(self._err)

    def _write(self, fd: int, text: str) -> None:
        if not self._echo or not text:
            return
        data = memoryview(text.encode(_ENCODING, _ERRORS))
        while data:
            try:
                written = os.write(fd, data)
            except BlockingIOError:
                _wait_writable(fd)
                continue
            except BrokenPipeError:
                raise BrokenPipe from None
            except OSError:
                # A closed fd (EBADF) or similar: Go's fmt.Fprint ignores write errors.
                return
            data = data[written:]


def _wait_writable(fd: int) -> None:
    """A non-blocking stdout inherited from the caller: wait instead of dropping bytes."""
    import select  # noqa: PLC0415 - rare path, keep the start fast

    select.select([], [fd], [], 1.0)
