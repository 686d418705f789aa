"""The kit's cache: where it lives, and one exclusive lock per entry shared by processes.

Tool venvs, PyPI bundles, Go and npm builds, the native launcher, the container relay and the
cell jail are built once into ``$XDG_CACHE_HOME/smp-compat`` and reused by every run; the lock
keeps two runs from filling one entry at once (the second waits, then reuses it).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["cache_dir", "locked"]


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/smp-compat`` (default ``~/.cache/smp-compat``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "smp-compat"


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (created if missing) for the ``with`` block."""
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
