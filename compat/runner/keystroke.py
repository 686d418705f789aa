"""The Enter a user presses when a dropped session hangs (the ``reconnect`` scenario).

After a dropped websocket the plugin calls ResumeSession: the first try and 5 retries,
100-199 ms doubled each time, so at most ~6.2 s of waiting (docs/plugin.md §3.1, §3.7,
``fake_plugin/resume.py``). When every try failed it prints nothing and hangs until the next
keystroke, which fails on the old connection and makes it print its failure line and exit.
A user looking at a silent terminal presses Enter; the kit does the same, once, at
:data:`RESUME_WINDOW` after the drop, and only if no ResumeSession was answered, so a failing
cell ends in seconds instead of at its timeout. The plugin is never changed: only its input.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compat.fakeaws import FakeAWS
    from compat.runner.process import LaterInput

__all__ = ["RESUME_WINDOW", "enter_after_failed_resume"]

#: Seconds from the drop to the Enter: the plugin's whole retry schedule, and some slack.
RESUME_WINDOW = 7.0
#: How often the wait for the drop looks whether the tool has ended meanwhile.
_SLICE = 0.25


def enter_after_failed_resume(
    fake: FakeAWS, access_key_id: str, *, tty: bool, window: float = RESUME_WINDOW
) -> LaterInput:
    """``later_input`` for :func:`compat.runner.process.run_process`: Enter (``\\r`` on a
    terminal, ``\\n`` on a pipe) once the resume window of a dropped session has passed with
    the session still dropped and no ResumeSession answered."""

    def later(stop: threading.Event) -> bytes | None:
        while not fake.wait_dropped(access_key_id, _SLICE):
            if stop.is_set():
                return None
        if stop.wait(window) or not fake.wait_dropped(access_key_id, 0.0):
            return None
        answered = any(c.get("token_value") for c in fake.registry.resume_calls(access_key_id))
        return None if answered else (b"\r" if tty else b"\n")

    return later
