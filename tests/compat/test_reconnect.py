"""The ``reconnect`` scenario end to end: the agent drops the websocket once, then argv[6] decides.

Real parts: the fake AWS (moto over HTTP, the proxy, the fake agent), the fake plugin as a
process, the AWS CLI v1 where installed. A caller that hands the plugin an SSM endpoint
resumes and passes; one that hands it ECS's endpoint fails ``resume-failed``.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest

from compat.adapter.load import load_adapter, load_adapters
from compat.fakeaws import FakeAWS
from compat.plan.cells import Filters, plan
from compat.runner import CellResult, run_cells

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RELEASE = "1.2.677.0"


def run(
    fake: FakeAWS, out: Path, tools: object, adapters: tuple[str, ...]
) -> dict[str, CellResult]:
    filters = Filters(adapters=adapters, scenarios=("reconnect",), releases=(RELEASE,))
    cells = plan(tools, filters=filters)  # type: ignore[arg-type]
    results = run_cells(cells, fake=fake, out_dir=out, jobs=2, timeout=20, install=False)
    return {r.id: r for r in results}


def _ssm_endpoint_replay(tmp_path: Path) -> Path:
    """ecspresso 1.6.0's replay, but handing the plugin the SSM endpoint as argv[6]."""
    adapter = tmp_path / "ssm-endpoint.toml"
    adapter.write_text(
        textwrap.dedent(
            """\
            name = "ssm-endpoint"
            homepage = "https://example.invalid/ssm-endpoint"
            kind = "ecs-exec"

            [[variant]]
            version = "1.0"
            mode = "replay"
            source = "kayac/ecspresso@b05abae160ee6e3bcd58d5815e0ebb1bf0e99343:exec.go:97"
            calls = ["ecs.ListTasks", "ecs.DescribeTasks", "ecs.ExecuteCommand"]
            session = "go"
            target = "ecs:{cluster}_{task_id}_{runtime_id}"
            target_format = "go"
            argv = [
                "session-manager-plugin", "{session_json}", "{region}", "StartSession", "",
                "{target_json}", "{ssm_endpoint}",
            ]
            """
        ),
        encoding="utf-8",
    )
    return adapter


def test_replays_resume_at_the_ssm_endpoint_and_fail_at_ecs(
    fake_aws: FakeAWS, tmp_path: Path
) -> None:
    tools = [*load_adapters(), load_adapter(_ssm_endpoint_replay(tmp_path))]
    results = run(fake_aws, tmp_path / "out", tools, ("ssm-endpoint/1.0", "ecspresso/1.6.0"))
    good = results[f"ssm-endpoint/1.0/reconnect/{RELEASE}"]
    assert (good.outcome, good.reason, good.warnings) == ("pass", None, ()), good.detail
    bad = results[f"ecspresso/1.6.0/reconnect/{RELEASE}"]
    assert (bad.outcome, bad.reason) == ("fail", "resume-failed"), bad.detail
    assert bad.detail.startswith(
        "6 ResumeSession call(s) at argv[6] 'https://ecs.us-east-1.amazonaws.com', 0 answered, "
        "refused: InvalidSignatureException: Credential should be scoped to correct service"
    )
    # The kit pressed Enter after the resume window: the plugin said why and exited by itself.
    assert bad.detail.endswith(
        "; the plugin printed 'Cannot perform start session: websocket: close sent'"
    ), bad.detail


def _needs_awscli_v1() -> None:
    if not (Path(sys.executable).parent / "aws").exists():
        pytest.skip("AWS CLI v1 (PyPI awscli) is not installed beside this interpreter")


def test_aws_ssm_start_session_passes_the_ssm_endpoint_and_resumes(
    fake_aws: FakeAWS, tmp_path: Path
) -> None:
    _needs_awscli_v1()
    results = run(fake_aws, tmp_path, load_adapters(), ("awscli-v1/ssm-session",))
    ssm = results[f"awscli-v1/ssm-session/reconnect/{RELEASE}"]
    assert (ssm.outcome, ssm.reason, ssm.warnings) == ("pass", None, ()), ssm.detail


def test_aws_ecs_execute_command_passes_the_ecs_endpoint_and_cannot_resume(
    fake_aws: FakeAWS, tmp_path: Path
) -> None:
    """The real plugin would hang silently: ResumeSession goes to ECS's endpoint (argv[6])."""
    _needs_awscli_v1()
    results = run(fake_aws, tmp_path, load_adapters(), ("awscli-v1/ecs-exec",))
    ecs = results[f"awscli-v1/ecs-exec/reconnect/{RELEASE}"]
    assert (ecs.outcome, ecs.reason) == ("fail", "resume-failed"), ecs.detail
    # Ports are masked in details (reports are stable run to run); the refusal names ECS.
    assert re.search(r"at argv\[6\] 'http://127\.0\.0\.1:<port-\d+>', 0 answered", ecs.detail)
    assert "should be scoped to correct service: 'ecs'" in ecs.detail
    assert "the plugin printed 'Cannot perform start session: websocket: close sent'" in ecs.detail
    assert "still running when the cell was stopped" not in ecs.detail
