"""The official AWS CLI v2 bundle from PyPI, end to end: one matrix cell, judged from evidence.

Driven as users drive it, without ``--endpoint-url``: the CLI reads ``AWS_ENDPOINT_URL_ECS``
and hands the plugin its ECS client's endpoint as argv[6] (aws/aws-cli v2,
awscli/customizations/ecs/executecommand.py), which the verdict warns about.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compat.adapter.load import load_adapters
from compat.evidence.records import read_records
from compat.fakeaws import FakeAWS
from compat.plan.cells import Filters, plan
from compat.runner import resolve_tools, run_cells
from compat.runner.toolenv import Missing
from compat.verdict.rules import is_probe

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_ecs_exec_passes_kms_with_the_ecs_endpoint_as_argv6(
    fake_aws: FakeAWS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMP_COMPAT_AWSCLI_V2", raising=False)
    cells = plan(
        load_adapters(),
        filters=Filters(
            adapters=("awscli-v2/ecs-exec",), scenarios=("kms",), releases=("1.2.677.0",)
        ),
    )
    [tool] = resolve_tools(cells).values()
    if isinstance(tool, Missing) and tool.detail.startswith("pip download"):
        pytest.skip(f"the registry cannot be reached: {tool.detail}")
    [result] = run_cells(cells, fake=fake_aws, out_dir=tmp_path, timeout=60, keep_passing=True)
    assert (result.outcome, result.reason) == ("pass", None), result.detail
    assert result.warnings == ("endpoint-not-ssm",)
    records = read_records(tmp_path / result.evidence["plugin_record"])
    [start] = [r for r in records if not is_probe(r)]
    argv = start["argv"]
    assert len(argv) == 7 and argv[3] == "StartSession"
    assert json.loads(argv[1])["sessionId"]  # ECS's response, never env-var mode
    # The kept record is masked (ports differ on every run): argv[6] is the ECS endpoint the
    # CLI was given, the same placeholder as AWS_ENDPOINT_URL_ECS in its environment.
    assert argv[6] == start["env"]["AWS_ENDPOINT_URL_ECS"]
    assert argv[6].startswith("http://127.0.0.1:<port-")
    assert json.loads(argv[5])["Target"].startswith("ecs:")
