"""The Enter a user presses when a dropped session hangs (the ``reconnect`` scenario).

After a dropped websocket the plugin calls ResumeSession: the first try and 5 retries,
100-199 ms doubled each time, ~3-6 s of waiting in all (docs/plugin.md §3.1, §3.7,
``fake_plugin/resume.py``). When every try failed it prints nothing and hangs until the next
keystroke, which fails on the old connection and makes it print its failure line and exit.
A user looking at a silent terminal presses Enter; the kit does the same, once the plugin has
given up: the session still dropped, no ResumeSession answered, and either all
:data:`TRIES` calls seen or none for a while (calls that never reach the fake AWS: at least
:data:`WINDOW` s after the drop and :data:`GAP` s after the last call). A failing cell then ends
in seconds instead of at its timeout, with the same calls on record as before. The plugin is
never changed: only its input.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compat.fakeaws import FakeAWS
    from compat.runner.process import LaterInput

__all__ = ["GAP", "TRIES", "WINDOW", "enter_after_failed_resume"]

#: ResumeSession calls before the plugin gives up: the first try and DataChannelNumMaxRetries
#: (5) retries (``src/config/config.go``).
TRIES = 6
#: Seconds after the drop before an Enter, when fewer calls were seen (the whole schedule).
WINDOW = 7.0
#: Seconds after the last call seen before an Enter (the longest wait between tries, 3.2 s).
GAP = 4.0
#: How often the wait looks whether the tool has ended, or what the fake AWS saw meanwhile:
#: the Enter comes at most this long after the plugin's last try (a look is a dict scan).
_SLICE = 0.05


def enter_after_failed_resume(
    fake: FakeAWS, access_key_id: str, *, tty: bool, window: float = WINDOW, gap: float = GAP
) -> LaterInput:
    """``later_input`` for :func:`compat.runner.process.run_process`: Enter (``\\r`` on a
    terminal, ``\\n`` on a pipe) once a dropped session's plugin has given up resuming."""

    def later(stop: threading.Event) -> bytes | None:
        while not fake.wait_dropped(access_key_id, _SLICE):
            if stop.is_set():
                return None
        dropped_at = time.time()
        while True:
            calls = fake.registry.resume_calls(access_key_id)
            if any(c.get("token_value") for c in calls):
                return None  # answered: the session resumes (or the plugin says why not)
            if len(calls) >= TRIES:
                break
            last = max([dropped_at, *(float(str(c.get("at") or 0.0)) for c in calls)])
            left = max(dropped_at + window, last + gap) - time.time()
            if left <= 0:
                break
            if stop.wait(min(left, _SLICE)):
                return None
        if stop.is_set() or not fake.wait_dropped(access_key_id, 0.0):
            return None
        return b"\r" if tty else b"\n"

    return later
