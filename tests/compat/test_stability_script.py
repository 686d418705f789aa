"""benchmarks/stability.py: which judged cells differ between runs, and how they are named."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "stability.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stability", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cell(id_: str, outcome: str, reason: str | None = None, *warnings: str) -> dict[str, Any]:
    return {"id": id_, "outcome": outcome, "reason": reason, "warnings": list(warnings)}


def test_cells_differ_in_outcome_reason_or_warnings_or_presence() -> None:
    stability = _load()
    first = {"cells": [
        cell("a", "pass"), cell("b", "fail", "legacy-argv"), cell("c", "pass", None, "w1", "w2"),
        cell("d", "pass"), cell("e", "skipped", "requirement-missing"), cell("f", "pass"),
    ]}  # fmt: skip
    second = {"cells": [
        cell("a", "pass"), cell("b", "fail", "plugin-not-called"),
        cell("c", "pass", None, "w2", "w1"), cell("d", "pass", None, "w1"),
        cell("e", "skipped", "requirement-missing"), cell("f", "skipped", "requirement-missing"),
    ]}  # fmt: skip
    runs = [stability.judged(first), stability.judged(second)]
    found = stability.differing(runs)
    assert sorted(found) == ["b", "d", "f"]  # warnings in another order are the same
    assert found["f"] == [("pass", None, ()), None]
    assert stability._shown(found["d"][1]) == "pass [w1]"
    assert stability._shown(found["b"][1]) == "fail plugin-not-called"
