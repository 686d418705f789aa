"""How the suite splits over pytest-xdist workers (``-n 2 --dist loadscope``, tox.ini).

Each worker is a process with its own session fixtures. ``loadscope`` gives a worker whole
modules, so a module-scoped fixture (a FakeAWS per module, a served report) is set up once, not
once per worker; the whole-matrix run (``unsharded_matrix``) is made once per session by
whichever worker needs it first, under a lock (:func:`exclusive`). One change to
``loadscope``: the container tests are one scope, since each of them removes every container of ours
afterwards and two workers would remove each other's.

Workers also put the ``slow`` tests first, and the scopes go out in that order, so a long test
does not start last and run alone.

xdist's own ``xdist_group`` marks are not used: with pytest 9.2 they are silently ignored
(pytest-dev/pytest-xdist#1386).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

#: Tests under these directories share one worker, in one scope.
SHARED_SCOPES = {"tests/compat/container/": "containers"}


def scope_of(nodeid: str) -> str:
    """The unit a worker gets: the test's module, or its directory's shared scope."""
    for prefix, scope in SHARED_SCOPES.items():
        if nodeid.startswith(prefix):
            return scope
    return nodeid.split("::", 1)[0]


def scheduler(config: pytest.Config, log: Any) -> Any:
    """The scheduler for ``--dist loadscope``; None for any other mode (xdist picks)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]  # noqa: PLC0415

    class ByScope(LoadScopeScheduling):  # type: ignore[misc]
        def __init__(self, config: pytest.Config, log: Any = None) -> None:
            super().__init__(config, log)
            # Scopes go out in collection order (slow first), not by their number of tests.
            config.option.loadscopereorder = False

        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return ByScope(config, log)


def session_dir(factory: pytest.TempPathFactory) -> Path:
    """A directory of this test session that every xdist worker sees (the workers' base
    temporary directories are ``popen-gwN`` under it)."""
    base = factory.getbasetemp()
    return base.parent if base.name.startswith("popen-gw") else base


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) across processes."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def slow_first(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the slow tests first (on xdist workers only): the longest jobs start first."""
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)
