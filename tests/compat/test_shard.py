"""Sharded runs: stable, balanced shares; merge refuses what it must; 3 shards = 1 run.

``python -m tests.compat.test_shard FULL.json MERGED.json`` compares two matrices cell for
cell (the check for the whole built-in matrix, README.md).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from compat.adapter.load import load_adapters
from compat.cli import main
from compat.errors import UserError
from compat.plan.cells import Filters, plan
from compat.plan.shard import Shard, assign, cost, fingerprint, parse_shard, share
from compat.report import matrix
from compat.report.errors import MergeError
from compat.report.schema import validate
from compat.runner.result import CellResult
from tests.conftest import MATRIX_FILTER

ROOT = Path(__file__).resolve().parents[2]
FILTER = list(MATRIX_FILTER)
#: What may differ between two runs of the same cells.
VOLATILE = ("duration_s", "tool_duration_s", "evidence")


#: Seeded names, session, task and runtime ids a cell's detail may name: new in every run.
_IDS = re.compile(r"smp-[a-z]+-\d+-[0-9a-f]{6}|\b[\w-]+-[0-9a-f]{17}\b|[0-9a-f]{32}(?:-\d+)?")


def comparable(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The cells without timings, evidence paths and the run's fresh ids."""
    return [
        {k: _IDS.sub("<id>", v) if k == "detail" else v for k, v in c.items() if k not in VOLATILE}
        for c in document["cells"]
    ]


@pytest.fixture(scope="module")
def cells() -> list[Any]:
    return plan(load_adapters())


@pytest.mark.parametrize(
    ("text", "expected"), [("1/3", Shard(1, 3)), (" 3/3 ", Shard(3, 3)), ("1/1", Shard(1, 1))]
)
def test_parse_shard(text: str, expected: Shard) -> None:
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "x", "1-3", "/3"])
def test_parse_shard_refuses(text: str) -> None:
    with pytest.raises(UserError, match="--shard"):
        parse_shard(text)


def test_every_cell_lands_in_exactly_one_balanced_shard(cells: list[Any]) -> None:
    for count in (1, 2, 3, 5):
        parts = [share(cells, Shard(i, count)) for i in range(1, count + 1)]
        assert sorted(c.id for p in parts for c in p) == sorted(c.id for c in cells)
        loads = [sum(cost(c) for c in p) for p in parts]
        assert max(loads) - min(loads) <= max(cost(c) for c in cells), loads
        for part in parts:  # plan order is kept inside a share
            positions = [cells.index(c) for c in part]
            assert positions == sorted(positions)


@pytest.mark.slow
def test_the_split_is_the_same_in_every_process(cells: list[Any]) -> None:
    code = (
        "from compat.adapter.load import load_adapters; from compat.plan.cells import plan; "
        "from compat.plan.shard import assign; print(assign(plan(load_adapters()), 3))"
    )
    seen = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        seen.add(done.stdout.strip())
    assert seen == {str(assign(cells, 3))}


def test_the_fingerprint_names_the_plan(cells: list[Any]) -> None:
    again = plan(load_adapters())
    assert fingerprint(again) == fingerprint(cells)
    fewer = plan(load_adapters(), filters=Filters(scenarios=("kms",)))
    assert fingerprint(fewer) != fingerprint(cells)


def _part(cells: list[Any], index: int, count: int, **run: Any) -> tuple[str, dict[str, Any]]:
    """A shard's document with made-up results (merge reads documents, not runs)."""
    mine = share(cells, Shard(index, count))
    results = [
        CellResult(c.id, c.adapter.name, c.variant.id, c.scenario.name, c.release, "n/a", "x")
        for c in mine
    ]
    document = matrix.build(
        mine, results, started=0.0, finished=1.0, jobs=1, timeout=60.0,
        plan_cells=cells, plan_fingerprint=fingerprint(cells), shard=(index, count),
    )  # fmt: skip
    document["run"].update(run)
    return f"part-{index}.json", document


def test_merge_puts_cells_back_in_plan_order(cells: list[Any]) -> None:
    parts = [_part(cells, i, 3) for i in (3, 1, 2)]
    merged = matrix.merge(parts)
    validate(merged)
    assert [c["id"] for c in merged["cells"]] == [c.id for c in cells]
    assert merged["summary"]["n/a"] == len(cells)
    assert "shard" not in merged["run"] and len(merged["run"]["shards"]) == 3


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([(1, 3, {}), (2, 3, {})], r"missing shard\(s\) 3/3"),
        ([(1, 3, {}), (1, 3, {})], r"shard 1/3 is also part-1.json"),
        ([(1, 2, {}), (2, 3, {})], r"shard 2/3, but part-1.json is of 2"),
        ([(1, 2, {}), (2, 2, {"plan_fingerprint": "sha256:0"})], r"run.plan_fingerprint"),
        ([(1, 2, {}), (2, 2, {"kit_version": "9.9"})], r"run.kit_version .*different runs"),
        ([(1, 2, {}), (2, 2, {"filters": {"scenario": ["kms"]}})], r"run.filters"),
    ],
    ids=["missing", "twice", "count", "fingerprint", "kit", "filters"],
)
def test_merge_refuses(cells: list[Any], parts: list[Any], message: str) -> None:
    documents = [_part(cells, i, n, **run) for i, n, run in parts]
    with pytest.raises(MergeError, match=message):
        matrix.merge(documents)


def test_merge_refuses_a_duplicate_cell_and_an_unsharded_matrix(cells: list[Any]) -> None:
    one, two = _part(cells, 1, 2), _part(cells, 2, 2)
    two[1]["cells"].append(one[1]["cells"][0])
    with pytest.raises(MergeError, match=r"cell .* is also in part-1.json"):
        matrix.merge([one, two])
    del one[1]["run"]["shard"]
    with pytest.raises(MergeError, match="not a shard's matrix"):
        matrix.merge([one])


def test_merge_cli_bad_input_is_one_line(
    cells: list[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, document = _part(cells, 1, 2)
    (tmp_path / name).write_text(json.dumps(document))
    assert main(["merge", str(tmp_path / name), "-o", str(tmp_path / "m.json")]) == 2
    assert main(["merge", str(tmp_path / "nope.json"), "-o", str(tmp_path / "m.json")]) == 2
    assert main(["run", "--shard", "4/3", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "smp-compat merge: error: missing shard(s) 2/2: run `smp-compat run --shard I/N` for each",
        f"smp-compat merge: error: {tmp_path / 'nope.json'}: no such file (run `smp-compat run` "
        "first)",
        "smp-compat run: error: --shard 4/3: expected 1 <= I <= N",
    ]


def test_the_documented_sharded_workflow_follows_the_schema() -> None:
    yaml = pytest.importorskip("yaml")
    jsonschema = pytest.importorskip("jsonschema")
    from tests.compat.report.test_report_actions import _vendored  # noqa: PLC0415

    text = (ROOT / "README.md").read_text()
    found = re.search(r"<!-- example: tests/compat/test_shard\.py.*?```yaml\n(.*?)```", text, re.S)
    assert found is not None
    workflow = yaml.safe_load(found[1])
    workflow["on"] = workflow.pop(True)
    jsonschema.validate(workflow, _vendored("github-workflows"))
    runs = [s["run"] for job in workflow["jobs"].values() for s in job["steps"] if "run" in s]
    assert any("--shard ${{ matrix.shard }}/3" in r for r in runs)
    assert any(r.startswith("smp-compat merge ") for r in runs)


def _run(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "compat", "run", "--no-install", "--jobs", "1", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.integration
@pytest.mark.slow
def test_three_shards_merge_into_the_unsharded_matrix(
    tmp_path: Path, unsharded_matrix: dict[str, Any]
) -> None:
    """The three shards run at once (one job each); the unsharded run is the session's."""
    runs = [
        _run(*FILTER, "--shard", f"{i}/3", "--out", str(tmp_path / f"part-{i}")) for i in (1, 2, 3)
    ]
    for proc in runs:
        out, _ = proc.communicate(timeout=240)
        assert proc.returncode in (0, 1), out
    parts = [str(tmp_path / f"part-{i}" / "matrix.json") for i in (1, 2, 3)]
    merged_path = tmp_path / "merged" / "matrix.json"
    assert main(["merge", *parts, "-o", str(merged_path)]) == 0
    full = unsharded_matrix
    merged = json.loads(merged_path.read_text())
    validate(merged)
    assert comparable(merged) == comparable(full)
    for key in ("rows", "columns", "scenarios", "summary"):
        assert merged[key] == full[key], key
    assert merged["run"]["plan_fingerprint"] == full["run"]["plan_fingerprint"]
    sizes = Counter(len(json.loads(Path(p).read_text())["cells"]) for p in parts)
    assert sum(n * k for n, k in sizes.items()) == len(full["cells"])
    assert (tmp_path / "merged" / "index.html").is_file()


if __name__ == "__main__":
    a, b = (json.loads(Path(p).read_text()) for p in sys.argv[1:3])
    differ = [
        (x["id"], y["id"]) for x, y in zip(comparable(a), comparable(b), strict=False) if x != y
    ]
    same = len(a["cells"]) == len(b["cells"]) and not differ
    print("same cells" if same else f"differ: {len(a['cells'])} vs {len(b['cells'])}; {differ[:5]}")
    sys.exit(0 if same else 1)
