"""Shell sessions: terminal size, control signals and keyboard input, as the plugin does them.

``SMP:src/sessionmanagerplugin/session/shellsession/shellsession.go:58-140`` and
``shellsession_unix.go:31-96``: the Size message (300x100 when stdout is not a terminal,
re-sent when it changes, polled every 500 ms by its own thread, so the first keystrokes can
reach the agent before the first Size, as with Go's goroutines), SIGINT/SIGTSTP/SIGQUIT
forwarded as bytes 0x03/0x1a/0x1c (``sessionutil/control_signals_unix.go``),
``stty cbreak -echo`` on the terminal, and stdin read in chunks of up to 1024 bytes until EOF.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import termios
import threading
import time
from collections.abc import Iterator
from typing import Any

from fake_plugin.datachannel import ClientDataChannel
from fake_plugin.resume import SendFailed
from fake_plugin.wire import PayloadType, go_json

#: shellsession.go:32-35.
RESIZE_INTERVAL_S = 0.5
STDIN_BUFFER_LIMIT = 1024
#: shellsession.go:109-112: the size sent when stdout is not a terminal.
FALLBACK_SIZE = (300, 100)
#: control_signals_unix.go SignalsByteMap.
SIGNAL_BYTES = {signal.SIGINT: b"\x03", signal.SIGTSTP: b"\x1a", signal.SIGQUIT: b"\x1c"}


def terminal_size(fd: int = 1) -> tuple[int, int]:
    """(cols, rows) of stdout, or the 300x100 fallback (``GetTerminalSizeCall`` failing)."""
    try:
        size = os.get_terminal_size(fd)
    except OSError:
        return FALLBACK_SIZE
    return size.columns, size.lines


def size_payload(cols: int, rows: int) -> bytes:
    """``message.SizeData`` as Go marshals it: ``{"cols":N,"rows":M}``."""
    return go_json({"cols": cols, "rows": rows})


@contextlib.contextmanager
def cbreak_no_echo(fd: int) -> Iterator[None]:
    """``stty cbreak; stty -echo`` while the shell runs, then the saved state plus ``echo``.

    stty fails silently when stdin is not a terminal (disableEchoAndInputBuffering).
    """
    try:
        saved: list[Any] | None = termios.tcgetattr(fd)
    except (termios.error, OSError):
        saved = None
    if saved is not None:
        mode = termios.tcgetattr(fd)
        mode[3] &= ~(termios.ICANON | termios.ECHO)  # lflags: cbreak is -icanon; -echo
        mode[6][termios.VMIN], mode[6][termios.VTIME] = 1, 0
        termios.tcsetattr(fd, termios.TCSANOW, mode)
    try:
        yield
    finally:
        if saved is not None:
            saved[3] |= termios.ECHO  # Stop: the saved state, then "stty echo"
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(fd, termios.TCSANOW, saved)


class ShellSession:
    """The running shell: sends size and keystrokes until stdin ends or the session stops."""

    def __init__(
        self,
        channel: ClientDataChannel,
        display: Any,
        stop: threading.Event,
        stdin_fd: int = 0,
        stdout_fd: int = 1,
    ) -> None:
        self._channel = channel
        self._display = display
        self._stop = stop
        self._stdin_fd = stdin_fd
        self._stdout_fd = stdout_fd
        self._size: tuple[int, int] | None = None

    def start_handlers(self) -> None:
        """``ShellSession.Initialize``: register the handler that prints every payload."""

        def show(message: Any) -> bool:
            self._display(message.payload)
            return True

        self._channel.register_handler(show)

    def _send_size_if_changed(self) -> None:
        size = terminal_size(self._stdout_fd)
        if size != self._size:
            self._size = size
            with contextlib.suppress(SendFailed):  # "Failed to Send size data" (logged)
                self._channel.send_input(PayloadType.SIZE, size_payload(*size))

    def _resize_loop(self) -> None:
        """``handleTerminalResize``'s goroutine: check and send at once, then every 500 ms."""
        while not self._stop.is_set():
            self._send_size_if_changed()
            if self._stop.wait(RESIZE_INTERVAL_S):
                return

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def forward(signum: int, _frame: Any) -> None:
            with contextlib.suppress(SendFailed):  # "Failed to send control signals" (logged)
                self._channel.send_input(PayloadType.OUTPUT, SIGNAL_BYTES[signal.Signals(signum)])

        for signum in SIGNAL_BYTES:
            signal.signal(signum, forward)

    def run(self) -> str | None:
        """Run until stdin ends (returns ``"EOF"``) or ``stop`` is set (returns None)."""
        # SetSessionHandlers: the resize goroutine races the stdin loop below for the first
        # sequence number (shellsession.go:60-71, 90-124); neither waits for the other.
        threading.Thread(target=self._resize_loop, name="smp-resize", daemon=True).start()
        self._install_signal_handlers()
        wake_r, wake_w = os.pipe()

        def wake() -> None:
            self._stop.wait()
            with contextlib.suppress(OSError):
                os.write(wake_w, b"x")
            with contextlib.suppress(OSError):
                os.close(wake_w)

        threading.Thread(target=wake, name="smp-stdin-wake", daemon=True).start()
        selector = selectors.DefaultSelector()
        try:
            selector.register(wake_r, selectors.EVENT_READ)
            try:
                selector.register(self._stdin_fd, selectors.EVENT_READ)
                pollable = True
            except (OSError, ValueError, PermissionError):
                pollable = False  # a regular file: always readable
            with cbreak_no_echo(self._stdin_fd):
                while not self._stop.is_set():
                    if pollable:
                        ready = {key.fd for key, _ in selector.select()}
                        if wake_r in ready or self._stop.is_set():
                            return None
                    try:
                        data = os.read(self._stdin_fd, STDIN_BUFFER_LIMIT)
                    except InterruptedError:
                        continue
                    except OSError as exc:
                        return f"read /dev/stdin: {exc.strerror or exc}"
                    if not data:
                        return "EOF"
                    try:
                        self._channel.send_input(PayloadType.OUTPUT, data)
                    except SendFailed as exc:  # the websocket was dropped: the loop ends
                        return str(exc)
                    time.sleep(0.001)  # "sleep to limit the rate of data transfer"
            return None
        finally:
            selector.close()
            self._stop.set()
            with contextlib.suppress(OSError):
                os.close(wake_r)
