"""Resuming a session after the agent dropped the websocket, as the real plugin does.

The sequence (``SMP@1.2.677.0:src/sessionmanagerplugin/session/sessionhandler.go:56-63,95-138``,
``src/communicator/websocketchannel.go:155-186``, ``src/datachannel/streaming.go:246-259``,
unchanged since 1.2.234.0 apart from import paths):

1. Five consecutive read errors make the channel call ``OnError`` (a dropped connection fails
   every read at once).
2. ``OnError`` runs ``ResumeSessionHandler`` under the data channel's retryer: the first try
   and 5 retries, waiting 100-199 ms doubled each time (``config.go:34-37``).
3. Each try calls SSM ``ResumeSession`` with the endpoint of argv[6], the region of argv[2]
   and the profile of argv[4]; an error is only logged (no output).
4. An answer without ``TokenValue`` prints ``Session: <sid> timed out.`` and exits 0.
5. With a token it redials the *original* StreamUrl and sends OpenDataChannel with the new
   token; unacked input is resent over it.
6. When every try failed, nothing is printed and the process stays: the old connection is
   still the one writes go to. The next keystroke fails there (gorilla's error), the keyboard
   loop returns it, and ``Execute`` prints ``Cannot perform start session: <error>`` and
   exits 0 (``shellsession_unix.go:72-85``, ``session.go:203-208``). Without more input it
   hangs until stdin ends.

This module is a leaf: the session client hands it callables.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from fake_plugin.errors import SendFailed

__all__ = ["CLOSE_SENT", "SendFailed", "resume", "retry", "write_error"]

#: config.go: DataChannelNumMaxRetries.
RETRIES = 5
#: gorilla's ErrCloseSent: writes after the close handshake (the server sent a close frame,
#: the default close handler answered it).
CLOSE_SENT = "websocket: close sent"
#: A write on a connection the peer reset without a close frame.
BROKEN_PIPE = "write: broken pipe"


def write_error(close_frame_received: bool) -> str:
    """The error every later write on the dropped connection returns."""
    return CLOSE_SENT if close_frame_received else BROKEN_PIPE


def retry(attempt: Callable[[], bool], stop: threading.Event) -> bool:
    """``RepeatableExponentialRetryer.Call``: the first try and 5 retries, x2 from 100-199 ms."""
    delay_ms = random.randrange(100, 200)
    for tries in range(RETRIES + 1):
        if attempt():
            return True
        if tries == RETRIES or stop.is_set():
            return False
        time.sleep(delay_ms * (2**tries) / 1000)
    return False


def resume(
    resume_session: Callable[[], dict[str, object] | None],
    reopen: Callable[[str], bool],
    timed_out: Callable[[], None],
    stop: threading.Event,
) -> bool:
    """``OnError`` -> ``ResumeSessionHandler`` under the retryer; True once reconnected.

    ``resume_session`` is the SSM call at argv[6] (``None`` when it failed), ``reopen`` dials
    the stream URL with a new token, ``timed_out`` prints the timeout line and exits.
    """

    def attempt() -> bool:
        answer = resume_session()
        if answer is None:
            return False  # "Failed to get token" (logged)
        token = answer.get("TokenValue")
        if not isinstance(token, str) or not token:
            timed_out()
            return True
        return reopen(token)

    return retry(attempt, stop)
