"""benchmarks/real_vs_fake.py: a reader that leaves early (``| head``) gets no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "real_vs_fake.py"


def _matrix(path: Path, kind: str, release: str, outcome: str) -> Path:
    cells = [
        {"tool": f"tool{i}", "variant": "1.0", "scenario": "shell", "release": release,
         "outcome": outcome, "reason": None, "warnings": []}
        for i in range(2000)
    ]  # fmt: skip
    document: dict[str, Any] = {
        "kind": "smp-compat-matrix",
        "run": {"plugin": {"kind": kind, "real_binary": None}},
        "cells": cells,
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_closed_pipe_ends_the_script_quietly(tmp_path: Path) -> None:
    fake = _matrix(tmp_path / "fake.json", "fake", "1.2.677.0", "pass")
    real = _matrix(tmp_path / "real.json", "real", "real", "fail")
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line: every write meets EPIPE
    try:
        ran = subprocess.run(
            [sys.executable, str(SCRIPT), str(fake), str(real), "--release", "1.2.677.0"],
            stdout=write, stderr=subprocess.PIPE, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(write)
    assert ran.stderr == ""
    assert ran.returncode == 141  # 128 + SIGPIPE, what a shell shows for a filter cut off


def test_the_figures_when_the_reader_stays(tmp_path: Path) -> None:
    fake = _matrix(tmp_path / "fake.json", "fake", "1.2.677.0", "pass")
    real = _matrix(tmp_path / "real.json", "real", "real", "pass")
    ran = subprocess.run(
        [sys.executable, str(SCRIPT), str(fake), str(real), "--release", "1.2.677.0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[-1] == (
        "release 1.2.677.0: 2000 judged cells, 2000 agree, 0 disagree"
    )
