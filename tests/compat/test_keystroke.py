"""The Enter after a failed resume: typed only when the session is still dropped and no
ResumeSession was answered, and never once the tool has ended."""

from __future__ import annotations

import threading
from typing import Any

from compat.runner.keystroke import enter_after_failed_resume


class _Stage:
    """What the typist reads of the fake AWS: the agent's dropped sessions, the resume calls."""

    def __init__(self, *, drops: int, answered: bool = False) -> None:
        #: How many looks at the agent see the session dropped before it is (re)connected.
        self.drops = drops
        self.looks = 0
        self.calls = [{"token_value": "TOKEN" if answered else None, "error": None}]
        self.registry = self

    def wait_dropped(self, access_key_id: str, timeout: float) -> bool:
        assert access_key_id == "AKIACELL"
        self.looks += 1
        return self.looks <= self.drops

    def resume_calls(self, access_key_id: str) -> list[dict[str, Any]]:
        return self.calls


def _typed(stage: _Stage, *, tty: bool = False, stop: threading.Event | None = None) -> Any:
    later = enter_after_failed_resume(stage, "AKIACELL", tty=tty, window=0.01)  # type: ignore[arg-type]
    return later(stop or threading.Event())


def test_enter_once_the_window_passed_with_the_session_still_dropped() -> None:
    assert _typed(_Stage(drops=2)) == b"\n"
    assert _typed(_Stage(drops=2), tty=True) == b"\r"  # what the Enter key sends on a terminal


def test_no_enter_when_the_session_resumed_within_the_window() -> None:
    assert _typed(_Stage(drops=1)) is None


def test_no_enter_when_a_resume_was_answered() -> None:
    assert _typed(_Stage(drops=2, answered=True)) is None


def test_no_enter_after_the_tool_ended() -> None:
    stop = threading.Event()
    stop.set()
    assert _typed(_Stage(drops=0), stop=stop) is None  # never dropped: gives up at stop
    assert _typed(_Stage(drops=2), stop=stop) is None  # dropped, but the tool is gone
