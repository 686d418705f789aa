"""Start-up cost of the fake plugin: ``--version`` through a shim vs. ``python -c pass``.

Run: ``python benchmarks/plugin_startup.py [--runs N]``. Prints the median wall time of each,
measured interleaved (side by side, so machine load hits both alike), and their ratio. The
issue's aim: the shim at most 1.5x the bare interpreter. ``python -IS -c pass`` is printed
too: it is the floor the shim's interpreter flags allow.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compat.shim import write_shim


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        shim = str(write_shim(Path(tmp) / "bin", release="1.2.677.0"))
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -IS -c pass": [sys.executable, "-IS", "-c", "pass"],
            "shim --version": [shim, "--version"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, cmd in commands.items():
                times[name].append(_time(cmd))
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    for name, ms in medians.items():
        print(f"{name:<22} {ms:7.1f} ms  (median of {runs})")
    ratio = medians["shim --version"] / medians["python -c pass"]
    print(f"ratio shim/python -c pass: {ratio:.2f}  (aim: <= 1.5)")
    floor = medians["shim --version"] / medians["python -IS -c pass"]
    print(f"ratio shim/python -IS -c pass: {floor:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
