"""ssm-cli and ssm-ecs from PyPI, run for real in one scenario each (issue 11).

``install=False``: a tool not in the kit's venv cache yet skips with the reason; a first
``smp-compat run --adapter ssm-cli`` (or ``tox -e compat``) installs it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compat.adapter.load import load_adapters
from compat.fakeaws import FakeAWS
from compat.plan.cells import Filters, plan
from compat.runner import CellResult, run_cells

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _run(fake: FakeAWS, out: Path, adapter: str, scenario: str) -> CellResult:
    cells = plan(
        load_adapters(),
        filters=Filters(adapters=(adapter,), scenarios=(scenario,), releases=("1.2.677.0",)),
    )
    (result,) = run_cells(cells, fake=fake, out_dir=out, jobs=1, timeout=60, install=False)
    if result.outcome == "skipped":
        pytest.skip(f"{adapter}: {result.detail}")
    return result


def test_ssm_cli_finds_its_tagged_instance_and_passes_kms_with_a_hardcoded_default(
    fake_aws: FakeAWS, tmp_path: Path
) -> None:
    # Its config under ~/.config/ssm-cli/, GetResources and DescribeInstanceInformation by
    # tag, one instance so no menu; argv[4] is boto3's profile name "default" (ssm_cli/config.py
    # aws_profile), so the pass carries the warning.
    result = _run(fake_aws, tmp_path, "ssm-cli/1.1.0", "kms")
    assert (result.outcome, result.reason) == ("pass", None), result.detail
    assert result.warnings == ("profile-hardcoded-default",)
    assert result.detail.startswith("encrypted session")


def test_ssm_ecs_needs_a_task_on_an_ec2_container_instance(
    fake_aws: FakeAWS, tmp_path: Path
) -> None:
    # ssm-ecs reads task["containerInstanceArn"] (EC2 launch type only); the kit seeds Fargate
    # tasks, so it stops before the plugin and the detail quotes its error line.
    result = _run(fake_aws, tmp_path, "ssm-ecs/0.6", "shell")
    assert (result.outcome, result.reason) == ("fail", "plugin-not-called"), result.detail
    assert result.detail.endswith("KeyError: 'containerInstanceArn'")
