"""The kit's cache: where it lives, and one exclusive lock per entry shared by processes.

Tool venvs, PyPI bundles, Go and npm builds, the native launcher, the container relay and the
cell jail are built once into ``$XDG_CACHE_HOME/smp-compat`` and reused by every run; the lock
keeps two runs from filling one entry at once (the second waits, then reuses it).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["RETRY_AFTER", "cache_dir", "locked", "recent_failure"]

#: Seconds a failed build or install is not retried: a registry's refusal or a compile error
#: is final, and a day lets a fixed registry or toolchain be picked up. Delete the marker to
#: retry at once.
RETRY_AFTER = 86400.0


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


def recent_failure(marker: Path) -> str | None:
    """The reason kept in ``marker`` by a failure less than :data:`RETRY_AFTER` ago, said with
    how to retry now; ``None`` when there is none (or it is old)."""
    try:
        age = time.time() - marker.stat().st_mtime
        reason = marker.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if age >= RETRY_AFTER:
        return None
    return f"{reason} (remembered; delete {marker} to retry now)"
