"""The Enter after a failed resume: typed only once the plugin has given up (every try seen,
or none for a while), the session still dropped and no ResumeSession answered, and never
once the tool has ended."""

from __future__ import annotations

import threading
import time
from typing import Any

from compat.runner.keystroke import TRIES, enter_after_failed_resume


class _Stage:
    """What the typist reads of the fake AWS: the agent's dropped sessions, the resume calls."""

    def __init__(self, *, drops: int, calls: int = 0, answered: bool = False) -> None:
        #: How many looks at the agent see the session dropped before it is (re)connected.
        self.drops = drops
        self.looks = 0
        now = time.time()
        token = "TOKEN" if answered else None
        self.calls = [{"token_value": token, "error": "refused", "at": now} for _ in range(calls)]
        self.registry = self

    def wait_dropped(self, access_key_id: str, timeout: float) -> bool:
        assert access_key_id == "AKIACELL"
        self.looks += 1
        return self.looks <= self.drops

    def resume_calls(self, access_key_id: str) -> list[dict[str, Any]]:
        return self.calls


def _typed(
    stage: _Stage, *, tty: bool = False, stop: threading.Event | None = None, gap: float = 0.01
) -> Any:
    later = enter_after_failed_resume(stage, "AKIACELL", tty=tty, window=0.01, gap=gap)  # type: ignore[arg-type]
    return later(stop or threading.Event())


def test_enter_once_every_try_failed() -> None:
    assert _typed(_Stage(drops=2, calls=TRIES), gap=60) == b"\n"  # no wait for a gap
    assert _typed(_Stage(drops=2, calls=TRIES), tty=True, gap=60) == b"\r"  # the Enter key


def test_enter_when_no_call_came_for_a_while() -> None:
    assert _typed(_Stage(drops=2)) == b"\n"  # calls that never reach the fake AWS
    assert _typed(_Stage(drops=2, calls=2)) == b"\n"


def test_no_enter_while_the_plugin_may_still_try() -> None:
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()  # the tool ends before the gap after the last call
    assert _typed(_Stage(drops=2, calls=3), stop=stop, gap=60) is None


def test_no_enter_when_the_session_resumed() -> None:
    assert _typed(_Stage(drops=1)) is None


def test_no_enter_when_a_resume_was_answered() -> None:
    assert _typed(_Stage(drops=2, calls=1, answered=True)) is None


def test_no_enter_after_the_tool_ended() -> None:
    stop = threading.Event()
    stop.set()
    assert _typed(_Stage(drops=0), stop=stop) is None  # never dropped: gives up at stop
    assert _typed(_Stage(drops=2), stop=stop) is None  # dropped, but the tool is gone
