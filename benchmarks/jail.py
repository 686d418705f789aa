"""What the cell jail costs per tool start: ``run_process`` of ``/bin/true``, jailed and not.

The jail (compat/isolation/jail.c) adds one fork, two namespaces and a few mounts per cell;
the second column is the process-group path used when no C compiler builds the jail.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from unittest import mock

from compat.isolation import jail
from compat.runner import process

ROUNDS = 40


def _median_ms(root: Path) -> float:
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        process.run_process(
            ["true"],
            env={"PATH": "/usr/bin:/bin"},
            cwd=root,
            stdout=root / "out",
            stderr=root / "err",
            timeout=30,
        )
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    print(f"isolation here: {jail.isolation()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        jailed = _median_ms(root)
        with mock.patch.object(process, "JAIL_MODE", "subreaper"):
            reaper = _median_ms(root)
        with mock.patch.object(process, "jail_binary", lambda: None):
            grouped = _median_ms(root)
    print(f"median of {ROUNDS} starts of /bin/true through run_process:")
    print(f"  jailed {jailed:.1f} ms (namespaces), subreaper only {reaper:.1f} ms,")
    print(f"  process group only {grouped:.1f} ms")
    print(
        f"  ratio jailed/unjailed {jailed / grouped:.2f}, cost {jailed - grouped:+.1f} ms per cell"
    )


if __name__ == "__main__":
    main()
