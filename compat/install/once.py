"""One cache entry built once: reuse it, else lock, look again, build, publish, remember a no.

The Go builds, the npm installs, the PyPI bundles and the tools' venvs fill their cache entries
the same way, so the flow lives here once: a finished entry is reused without a lock; with
installs disabled the missing entry is the reason; a refusal the installer itself gave (a
registry's 404, a compile error: :class:`InstallRefused`) is kept in a marker and not asked
again for :data:`compat.cache.RETRY_AFTER`; a file lock keeps two runs from building one
entry at once (the second waits, then reuses the first's); one progress line on stderr says
when a build starts and one when it ends.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

from compat.cache import locked, recent_failure
from compat.install.errors import InstallRefused

__all__ = ["Once", "Pin", "publish", "scratch"]


@dataclass(frozen=True)
class Pin:
    """``<name>@<version>``, an exact release: what one cache entry holds, so it never goes
    stale. Each installer's subclass has the ``pattern`` (groups ``name`` and ``version``)."""

    name: str
    version: str
    pattern: ClassVar[re.Pattern[str]]

    @classmethod
    def parse(cls, spec: str) -> Self | None:
        """The pin, or ``None`` when ``spec`` does not match the installer's pattern."""
        match = cls.pattern.fullmatch(spec)
        return None if match is None else cls(match["name"], match["version"])

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class Once:
    """How one entry is found, guarded and failed.

    ``ready`` returns the finished program, or ``None`` while the entry is missing or half
    done; ``failed`` is the marker of a remembered refusal (``None``: refusals are not
    remembered); ``error`` is the installer's one-line exception.
    """

    ready: Callable[[], Path | None]
    lock: Path
    failed: Path | None
    error: Callable[[str], Exception]

    def reuse(self, *, allowed: bool, disabled: str) -> Path | None:
        """The finished program; ``None`` when it must be built (refusals raise ``error``).

        A remembered refusal is said before ``disabled``: a run without installs then gives
        the reason a run with them gives (the shards of one matrix agree with it).
        """
        found = self.ready()
        if found is not None:
            return found
        self._raise_if_refused()
        if not allowed:
            raise self.error(disabled)
        return None

    def build(self, make: Callable[[], None], *, starting: str, done: str) -> Path:
        """Run ``make`` under the lock unless another run finished the entry meanwhile.

        ``starting`` and ``done`` are the progress lines (``done`` gets `` in N s``).
        """
        self.lock.parent.mkdir(parents=True, exist_ok=True)
        with locked(self.lock):
            found = self.ready()  # another run finished it while we waited
            if found is not None:
                return found
            self._raise_if_refused()
            progress(starting)
            started = time.monotonic()
            try:
                make()
            except InstallRefused as exc:
                reason = str(exc)
                if self.failed is not None:
                    self.failed.write_text(f"{exc}\n", encoding="utf-8")
                    # Said as every later run says it: a cell's detail is the same whether
                    # this run or an earlier one met the refusal (shards agree, reports hold).
                    reason = recent_failure(self.failed) or reason
                progress(f"{exc} ({time.monotonic() - started:.1f} s)")
                raise self.error(reason) from None
            progress(f"{done} in {time.monotonic() - started:.1f} s")
        found = self.ready()
        if found is None:
            raise self.error(f"{done}, yet the cache entry is not complete ({self.lock})")
        return found

    def _raise_if_refused(self) -> None:
        reason = None if self.failed is None else recent_failure(self.failed)
        if reason is not None:
            raise self.error(reason)


@contextlib.contextmanager
def scratch(final: Path) -> Iterator[Path]:
    """A fresh directory beside ``final`` (same file system, so :func:`publish` is a rename),
    removed when the block ends; whatever was not published goes with it."""
    work = final.with_name(f".{final.name}.partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def publish(tree: Path, final: Path) -> None:
    """``tree`` becomes ``final`` at once, replacing an old one: never a half-written entry."""
    shutil.rmtree(final, ignore_errors=True)
    tree.rename(final)


def progress(line: str) -> None:
    """One line for the user on stderr, at once."""
    print(line, file=sys.stderr, flush=True)
