"""What the AWS CLI v2 bundle costs: cold fetch+extract, warm resolve, ``aws --version``.

``python benchmarks/pypi_bundle.py [CACHE_DIR]``: the cold fetch goes into a fresh temporary
cache (it downloads the wheel: about 70 MB) unless CACHE_DIR already holds the bundle.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from compat.adapter.load import load_adapters
from compat.runner.toolenv import Resolved, resolve

ROUNDS = 5


def _seconds(call: object) -> float:
    start = time.perf_counter()
    call()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    os.environ.pop("SMP_COMPAT_AWSCLI_V2", None)
    cache = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    os.environ["XDG_CACHE_HOME"] = str(cache)
    variant = next(a for a in load_adapters() if a.name == "awscli-v2").variant("ecs-exec")
    found: list[object] = []
    cold = _seconds(lambda: found.append(resolve(variant)))
    tool = found[0]
    if not isinstance(tool, Resolved):
        sys.exit(f"not resolved: {tool}")
    warm = statistics.median(_seconds(lambda: resolve(variant)) for _ in range(ROUNDS))
    version = statistics.median(
        _seconds(
            lambda: subprocess.run([tool.program, "--version"], check=True, capture_output=True)
        )
        for _ in range(ROUNDS)
    )
    print(f"cache {cache}, load average {os.getloadavg()[0]:.1f}")
    print(f"first resolve (fetch, extract, version check) {cold:6.2f} s")
    print(f"warm resolve (cached, version check)          {warm:6.2f} s  {cold / warm:.0f}x faster")
    print(f"aws --version                                 {version:6.2f} s  {warm / version:.1f}x")


if __name__ == "__main__":
    main()
