"""ssm-cli, ssm-ecs, pysshm and ecs-exec from PyPI, run for real in one scenario each (issue 11).

Each is installed from PyPI into the kit's venv cache first when it is not there yet (once;
a fresh CI machine runs them too). Only a machine where pip cannot get it skips, with pip's
reason.
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
    (result,) = run_cells(cells, fake=fake, out_dir=out, jobs=1, timeout=60)
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


def test_ssm_ecs_opens_its_session_on_the_tasks_ec2_host_with_its_run_command_document(
    fake_aws: FakeAWS, tmp_path: Path
) -> None:
    # ssmecs/ssm_ecs.py start: the task's containerInstanceArn -> ec2InstanceId is the Target,
    # DocumentName "RunCommand" (seeded with the scenario's key) runs `docker exec ... /bin/sh`;
    # argv[4] is boto3's profile name, "default" when none was chosen.
    result = _run(fake_aws, tmp_path, "ssm-ecs/0.6", "kms")
    assert (result.outcome, result.reason) == ("pass", None), result.detail
    assert result.warnings == ("profile-hardcoded-default",)
    assert result.detail.startswith("encrypted session")
    assert result.argv_shape is not None
    assert (result.argv_shape["argc"], result.argv_shape["target"]) == (7, "{instance_id}")


def test_pysshm_passes_kms_with_its_default_profile(fake_aws: FakeAWS, tmp_path: Path) -> None:
    # pysshm/ssm.py start_ssh_tunnel: 6 argv, its -p profile ("default" unless chosen).
    result = _run(fake_aws, tmp_path, "pysshm/0.3.3", "kms")
    assert (result.outcome, result.reason) == ("pass", None), result.detail
    assert result.warnings == ("profile-hardcoded-default",)
    assert result.argv_shape is not None
    assert (result.argv_shape["argc"], result.argv_shape["endpoint"]) == (6, None)


def test_ecs_exec_resume_goes_to_the_ecs_endpoint_it_passes(
    fake_aws: FakeAWS, tmp_path: Path
) -> None:
    # ecs_exec/__main__.py main: argv[6] is the ECS client's endpoint_url, as the AWS CLI's
    # `ecs execute-command`; the plugin's ResumeSession after a drop goes there and is refused.
    result = _run(fake_aws, tmp_path, "ecs-exec/0.0.4", "reconnect")
    assert (result.outcome, result.reason) == ("fail", "resume-failed"), result.detail
    assert "scoped to correct service: 'ecs'" in result.detail
