"""The port-forward cells that used to flip (issue 9 item 1), 50 times through the real runner.

They ended ``fail plugin-not-called``, ``tool exit -15``, now and then: the runner stopped the
tool after the port round trip and read the records before the plugin had recorded. Every run
here must give the right verdict, ``pass``; one wrong verdict in 50 fails the test.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import pytest

from compat.adapter.load import load_adapters
from compat.fakeaws import FakeAWS
from compat.plan.cells import Filters, plan
from compat.runner import run_cells

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RUNS = 50
#: The cells issue 9 names; aws-ssm-juggle is installed from PyPI first when not cached.
ADAPTERS = ("awscli-v1/ecs-exec", "aws-ssm-juggle/26.3.0")
RELEASE = "1.2.234.0"


def test_the_racy_port_forward_cells_pass_every_time(fake_aws: FakeAWS, tmp_path: Path) -> None:
    if not (Path(sys.executable).parent / "aws").exists():
        pytest.skip("AWS CLI v1 (PyPI awscli) is not installed beside this interpreter")
    cells = plan(
        load_adapters(),
        filters=Filters(adapters=ADAPTERS, scenarios=("port-forward",), releases=(RELEASE,)),
    )
    seen: collections.Counter[tuple[str, str, str | None, str]] = collections.Counter()
    for index in range(RUNS):
        results = run_cells(
            cells, fake=fake_aws, out_dir=tmp_path / f"run-{index}", jobs=2, install=index == 0
        )
        for r in results:
            if r.outcome != "skipped":
                seen[(r.id, r.outcome, r.reason, "" if r.outcome == "pass" else r.detail)] += 1
    assert seen, "no port-forward cell could run"
    wrong = {key: n for key, n in seen.items() if key[1] != "pass"}
    assert not wrong, wrong
    assert all(n == RUNS for n in seen.values()), seen
