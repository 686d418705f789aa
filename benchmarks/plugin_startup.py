"""Start-up cost of the fake plugin: ``--version`` through the shim and the native launcher.

Run: ``python benchmarks/plugin_startup.py [--runs N]``. Prints the median wall time of each
command, measured interleaved (side by side, so machine load hits all alike), and ratios:
the shim against a bare interpreter (``python -c pass``; ``python -IS -c pass`` is the floor
its flags allow), the native launcher (compiled ``launcher.c`` handing the start to a warm
plugin server, compat/launcher) against ``/bin/true``, the cost of any process start, and
with ``SMP_COMPAT_REAL_PLUGIN`` set, AWS's binary beside them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compat.launcher import PluginServer, build_launcher, write_launcher
from compat.launcher.shim import write_shim


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    runs = parser.parse_args().runs
    real = os.environ.get("SMP_COMPAT_REAL_PLUGIN")
    with tempfile.TemporaryDirectory() as tmp, PluginServer(build_launcher()) as server:
        assert server.launcher is not None
        shim = str(write_shim(Path(tmp) / "shim", release="1.2.677.0"))
        native = str(write_launcher(Path(tmp) / "native", server.launcher, release="1.2.677.0"))
        commands = {
            "/bin/true": ["/bin/true"],
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -IS -c pass": [sys.executable, "-IS", "-c", "pass"],
            "shim --version": [shim, "--version"],
            "native --version": [native, "--version"],
        }
        if real:
            commands["real --version"] = [real, "--version"]
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, cmd in commands.items():
                times[name].append(_time(cmd))
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} on {os.cpu_count()} cores")
    for name, ms in medians.items():
        print(f"{name:<22} {ms:7.1f} ms  (median of {runs})")
    print(f"ratio shim/python -c pass: {medians['shim --version'] / medians['python -c pass']:.2f}")
    print(f"ratio native/shim: {medians['native --version'] / medians['shim --version']:.2f}")
    print(f"ratio native//bin/true: {medians['native --version'] / medians['/bin/true']:.2f}")
    if real:
        print(f"ratio native/real: {medians['native --version'] / medians['real --version']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
