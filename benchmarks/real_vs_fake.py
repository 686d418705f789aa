"""Do the fake plugin's verdicts hold with AWS's real binary? Judged cells side by side.

Compares a real-plugin matrix (``SMP_COMPAT_REAL_PLUGIN`` set; its cells' release is ``real``)
with the fake plugin's column of the same release, cell by cell: outcome, reason and warnings.
Cells planned on both sides are compared; a cell is *judged* when at least one side is
``pass``, ``fail`` or ``error``, and agrees when outcome, reason and the set of warnings are
equal. Prints every disagreement with both sides and their details (with ``--all``, every
agreeing cell too), then the figures; exit status 1 on any disagreement, 2 for bad input,
141 without a word when the reader leaves early (``| head``).

    python benchmarks/real_vs_fake.py FAKE.json REAL.json [--release 1.2.677.0]
    python benchmarks/real_vs_fake.py --run /path/to/session-manager-plugin [--jobs 2]

``--release`` defaults to the real binary's ``--version`` when it is still on disk. ``--run``
runs ``smp-compat run`` twice into a temporary directory (or ``--out``), once with the fake
plugin at the binary's release and once in real-plugin mode, passing ``--adapter``,
``--scenario``, ``--jobs`` and ``--timeout`` to both; the kit never builds the binary.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

JUDGED = ("pass", "fail", "error")
Cell = dict[str, Any]
#: The fake's cell and the real plugin's cell of the same tool, variant and scenario.
Pair = tuple[Cell, Cell]


class BadInput(Exception):
    """A one-line message for the user; exit status 2."""


def _load(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path}: {exc}") from None
    if not isinstance(document, dict) or document.get("kind") != "smp-compat-matrix":
        raise BadInput(f"{path}: not an smp-compat matrix.json")
    return document


def _binary_version(binary: str | None) -> str | None:
    if not binary or not os.access(binary, os.X_OK):
        return None
    ran = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return ran.stdout.strip() or None


def _key(cell: Cell) -> tuple[str, str, str]:
    return (cell["tool"], cell["variant"], cell["scenario"])


def _name(pair: Pair) -> str:
    return "/".join(_key(pair[0]))


def _side(cell: Cell) -> str:
    warnings = ",".join(sorted(cell.get("warnings") or [])) or "-"
    return f"{cell['outcome']} {cell.get('reason') or '-'} [{warnings}]"


def _verdict(cell: Cell) -> tuple[str, str | None, tuple[str, ...]]:
    return (cell["outcome"], cell.get("reason"), tuple(sorted(cell.get("warnings") or [])))


def compare(fake: dict[str, Any], real: dict[str, Any], release: str) -> tuple[list[Pair], int]:
    """The judged cells planned in both, the fake's of ``release`` beside the real's; and how
    many cells only one side planned (another filter: not compared)."""
    fakes = {_key(c): c for c in fake["cells"] if c["release"] == release}
    reals = {_key(c): c for c in real["cells"] if c["release"] == "real"}
    pairs = [
        (fakes[key], reals[key])
        for key in sorted(fakes.keys() & reals.keys())
        if fakes[key]["outcome"] in JUDGED or reals[key]["outcome"] in JUDGED
    ]
    return pairs, len(fakes.keys() ^ reals.keys())


def report(pairs: list[Pair], release: str, show_all: bool) -> int:
    """Print the table and figures; return the number of disagreements."""
    width = max((len(_name(pair)) for pair in pairs), default=10)
    print(f"  {'cell (' + release + ')':<{width}}  {'fake':<48}  real")
    disagree = 0
    for fake, real in pairs:
        same = _verdict(fake) == _verdict(real)
        disagree += not same
        if same and not show_all:
            continue
        name = _name((fake, real))
        mark = "  " if same else "≠ "
        print(f"{mark}{name:<{width}}  {_side(fake):<48}  {_side(real)}")
        if not same:
            for label, cell in (("fake", fake), ("real", real)):
                if cell.get("detail"):
                    print(f"    {label}: {cell['detail']}")
    print(f"release {release}: {len(pairs)} judged cells, {len(pairs) - disagree} agree, "
          f"{disagree} disagree")  # fmt: skip
    return disagree


def _run_both(binary: str, release: str, args: argparse.Namespace, out: Path) -> tuple[Path, Path]:
    common = ["--jobs", str(args.jobs), "--timeout", str(args.timeout)]
    for pattern in args.adapter:
        common += ["--adapter", pattern]
    for pattern in args.scenario:
        common += ["--scenario", pattern]
    env = {k: v for k, v in os.environ.items() if k != "SMP_COMPAT_REAL_PLUGIN"}
    runs: tuple[tuple[str, list[str], dict[str, str]], ...] = (
        ("fake", ["--release", release], env),
        ("real", [], {**env, "SMP_COMPAT_REAL_PLUGIN": binary}),
    )
    for name, extra, run_env in runs:
        command = [sys.executable, "-m", "compat", "run", "--out", str(out / name), *common, *extra]
        print(f"$ {' '.join(command)}", flush=True)
        ran = subprocess.run(command, env=run_env, check=False, stdout=subprocess.DEVNULL)
        if ran.returncode != 0:
            raise BadInput(f"the {name} run exited {ran.returncode} (its error is above)")
    return out / "fake" / "matrix.json", out / "real" / "matrix.json"


def main() -> int:
    try:
        status = _main()
        sys.stdout.flush()  # here, where a closed pipe is caught, not at the interpreter's exit
        return status
    except BadInput as exc:
        print(f"real_vs_fake: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader left (``| head``): stop quietly, as a Unix filter does. Point stdout at
        # /dev/null so the interpreter's final flush does not raise the same error again
        # (https://docs.python.org/3/library/signal.html#note-on-sigpipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


def _main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("matrices", nargs="*", type=Path, metavar="FAKE.json REAL.json")
    parser.add_argument("--release", help="the fake's release to compare (default: the binary's)")
    parser.add_argument("--run", metavar="BINARY", help="run both matrices with this binary")
    parser.add_argument("--out", type=Path, help="with --run: keep the two reports here")
    parser.add_argument("--adapter", action="append", default=[])
    parser.add_argument("--scenario", action="append", default=[])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--all", action="store_true", help="print agreeing cells too")
    args = parser.parse_args()
    if bool(args.run) == bool(args.matrices) or (args.matrices and len(args.matrices) != 2):
        parser.error("give FAKE.json REAL.json, or --run BINARY")
    with tempfile.TemporaryDirectory(prefix="real-vs-fake-") as scratch:
        if args.run:
            release = args.release or _binary_version(args.run)
            if release is None:
                parser.error(f"--run {args.run}: not an executable that prints its --version")
            paths = _run_both(args.run, release, args, args.out or Path(scratch))
        else:
            paths = args.matrices
        fake, real = (_load(p) for p in paths)
        if real["run"]["plugin"]["kind"] != "real" or fake["run"]["plugin"]["kind"] != "fake":
            parser.error("expected the fake plugin's matrix first, then the real plugin's")
        release = args.release or _binary_version(real["run"]["plugin"]["real_binary"])
        if release is None:
            parser.error("the real binary is gone: give --release")
        pairs, unmatched = compare(fake, real, release)
        if unmatched:
            print(f"{unmatched} cells planned on one side only (other filters): not compared")
        return 1 if report(pairs, release, args.all) else 0


if __name__ == "__main__":
    sys.exit(main())
