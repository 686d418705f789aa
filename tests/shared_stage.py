"""One FakeAWS shared by every test that needs the whole stage (moto's state is process-wide).

Tests that must build their own FakeAWS (lifecycle tests, control-plane tests without the
agent) call :func:`stop_shared` first; the next test asking for ``fake_aws`` starts a new one.
"""

from __future__ import annotations

from compat.fakeaws import FakeAWS

_shared: list[FakeAWS] = []


def get_shared() -> FakeAWS:
    """The running shared stage, started on first use."""
    if not _shared:
        _shared.append(FakeAWS().start())
    return _shared[0]


def stop_shared() -> None:
    """Stop the shared stage, if any (idempotent)."""
    while _shared:
        _shared.pop().stop()
