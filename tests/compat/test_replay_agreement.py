"""Every replay with a run twin hands the plugin what the real release hands it.

Each built-in replay whose release, or a release inside its range, also has a ``run`` variant
(built from the Go module proxy or installed from PyPI into the user's cache, once) is run
beside it in every scenario and plugin release; both must give the plugin the same argv shape
and get the same verdict in every cell both can run. A pair whose real program cannot be had
here is skipped with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compat.adapter.load import load_adapters
from compat.fakeaws import FakeAWS
from compat.plan.cells import Filters, plan
from compat.report import matrix
from compat.runner import run_cells
from compat.runner.toolenv import Missing, resolve
from compat.verdict.agreement import compare, twins_of
from compat.verdict.rules import session_starts

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _pairs() -> list[tuple[str, str, str]]:
    pairs = []
    for adapter in load_adapters():
        rows = [
            {"id": f"{adapter.name}/{v.id}", "tool": adapter.name, "variant": v.id}
            | {"version": v.version, "mode": v.mode}
            for v in adapter.variants
        ]
        for row in rows:
            twins = twins_of(row, rows) if row["mode"] == "replay" else []
            pairs.extend((adapter.name, row["variant"], t.split("/", 1)[1]) for t in twins)
    return pairs


PAIRS = _pairs()


def test_the_builtin_adapters_have_six_replays_with_a_run_twin() -> None:
    assert len(PAIRS) >= 6, PAIRS


def _argv(out: Path, cell: dict[str, Any]) -> list[str]:
    record = cell.get("evidence", {}).get("plugin_record")
    if record is None:
        return []
    lines = (out / record).read_text(encoding="utf-8").splitlines()
    starts = session_starts([json.loads(line) for line in lines if line.strip()])
    # argv[1] is the session (a token): its first characters tell its form.
    argv = [str(a) for a in starts[-1].get("argv") or []] if starts else []
    return [a if len(a) < 60 else a[:57] + "..." for a in argv]


@pytest.mark.parametrize(("tool", "replay", "twin"), PAIRS, ids=[f"{t}/{r}" for t, r, _ in PAIRS])
def test_a_replay_agrees_with_its_real_release(
    fake_aws: FakeAWS, tmp_path: Path, tool: str, replay: str, twin: str
) -> None:
    adapters = load_adapters()
    variant = next(a for a in adapters if a.name == tool).variant(twin)
    found = resolve(variant)
    if isinstance(found, Missing):
        pytest.skip(f"{tool}/{twin}: {found.detail}")
    cells = plan(adapters, filters=Filters(adapters=(f"{tool}/{replay}", f"{tool}/{twin}")))
    results = run_cells(
        cells, fake=fake_aws, out_dir=tmp_path, jobs=2, timeout=60, keep_passing=True
    )
    document = matrix.build(cells, results, started=0.0, finished=1.0, jobs=2, timeout=60)
    by_key = {(c["variant"], c["column"]): c for c in document["cells"]}
    problems = []
    for column in document["columns"]:
        ours, theirs = by_key[(replay, column["id"])], by_key[(twin, column["id"])]
        if "n/a" in (ours["outcome"], theirs["outcome"]):
            continue
        diff = compare(ours, theirs)
        if diff == []:
            continue
        why = diff or [
            f"not judged: replay {ours['outcome']} {ours['reason']} ({ours['detail']}), "
            f"run {theirs['outcome']} {theirs['reason']} ({theirs['detail']})"
        ]
        problems.append(
            f"{column['id']}: {'; '.join(why)}\n"
            f"  replay {replay}: {_argv(tmp_path, ours)}\n"
            f"  run    {twin}: {_argv(tmp_path, theirs)}"
        )
    assert not problems, f"{tool} {replay} vs the real program:\n" + "\n".join(problems)
    check = document["replay_checks"][f"{tool}/{replay}"]
    assert check["row"] == f"{tool}/{twin}"
    assert check["agree"] and check["cells"] >= 1
