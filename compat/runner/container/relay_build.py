"""The static container relay, compiled once per source text into the user's cache."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
from pathlib import Path

from compat.cache import cache_dir
from compat.runner.errors import RelayBuildError

__all__ = ["RELAY_SOURCE", "build_relay"]

RELAY_SOURCE = Path(__file__).with_name("relay.c")


def build_relay(cc: str | None = None) -> Path:
    """The static relay binary, compiled once per source text into the user's cache.

    Built at run time rather than shipped: a binary blob in the package could not be reviewed,
    and ``gcc -static`` gives one file that runs in any x86-64/arm64 Linux image, whatever
    its libc. Concurrent callers race harmlessly (each renames a complete file into place).

    Raises:
        RelayBuildError: no compiler, or the compile failed (its output is in the message).
    """
    source = RELAY_SOURCE.read_bytes()
    compiler = cc or os.environ.get("CC") or "gcc"
    digest = hashlib.sha256(source + compiler.encode()).hexdigest()[:16]
    target = cache_dir() / "relay" / digest / "session-manager-plugin"
    if target.is_file():
        return target
    found = shutil.which(compiler)
    if found is None:
        raise RelayBuildError(
            f"no C compiler {compiler!r} to build the container relay "
            "(Debian: apt-get install gcc libc6-dev)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".build-{os.getpid()}-{threading.get_ident()}")
    argv = [found, "-static", "-Os", "-s", "-o", str(tmp), str(RELAY_SOURCE)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise RelayBuildError(
            f"building the container relay failed ({' '.join(argv)}): {done.stderr.strip()}"
        )
    tmp.replace(target)
    return target
