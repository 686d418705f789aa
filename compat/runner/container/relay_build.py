"""The static container relay, compiled once per source text into the user's cache."""

from __future__ import annotations

import os
from pathlib import Path

from compat.compiled import compiled
from compat.errors import CompileError
from compat.runner.errors import RelayBuildError

__all__ = ["RELAY_SOURCE", "build_relay"]

RELAY_SOURCE = Path(__file__).with_name("relay.c")


def build_relay(cc: str | None = None) -> Path:
    """The static relay binary, compiled once per source text into the user's cache.

    Built at run time rather than shipped: a binary blob in the package could not be reviewed,
    and ``gcc -static`` gives one file that runs in any x86-64/arm64 Linux image, whatever
    its libc (``compat.compiled``: concurrent callers race harmlessly).

    Raises:
        RelayBuildError: no compiler, or the compile failed (its output is in the message).
    """
    compiler = cc or os.environ.get("CC") or "gcc"
    try:
        return compiled(
            RELAY_SOURCE, "relay", "session-manager-plugin", ["-static", "-Os", "-s"],
            compiler=compiler,
        )  # fmt: skip
    except CompileError as exc:
        raise RelayBuildError(
            f"building the container relay: {exc} (Debian: apt-get install gcc libc6-dev)"
        ) from None
