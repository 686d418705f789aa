"""Honest blame: the fake AWS's gaps are the kit's (``fake-aws-unsupported``), a tool's error
is quoted from the output that holds it, and a run of the user's adapters that tested nothing
exits 1."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from compat.adapter.load import load_adapter
from compat.cmd.run import _nothing_tested
from compat.evidence import error_line
from compat.fakeaws import FakeAWS
from compat.plan.cells import Filters, plan
from compat.runner import CellResult, run_cells
from compat.verdict.rules import Evidence, Setup, judge

SHELL = Setup(kms=False, session="shell", region="us-east-1", user_profile=None)


def test_an_unsupported_call_before_the_plugin_is_the_kits_error() -> None:
    evidence = Evidence(
        tool_exit=1,
        tool_stderr_tail="botocore.exceptions.ClientError: UnknownOperationException",
        unsupported=["ssm:GetConnectionStatus"],
    )
    verdict = judge(evidence, SHELL)
    assert (verdict.outcome, verdict.reason) == ("error", "fake-aws-unsupported")
    assert verdict.detail.startswith("ssm:GetConnectionStatus; tool exit 1: botocore")


def test_without_an_unsupported_call_the_tool_is_blamed() -> None:
    verdict = judge(Evidence(tool_exit=1, tool_stderr_tail="boom"), SHELL)
    assert (verdict.outcome, verdict.reason) == ("fail", "plugin-not-called")


@pytest.mark.parametrize(
    ("stdout", "stderr", "line"),
    [
        # rich's console prints on stdout; stderr holds only a log line
        ("connecting\nError: profile invalid\n", "INFO ssm cli called\n", "Error: profile invalid"),
        ("", "Traceback (most recent call last):\n  x\nKeyError: 'containerInstanceArn'\n",
         "KeyError: 'containerInstanceArn'"),
        ("done\n", "bye\n", "bye"),
        ("only stdout\n", "", "only stdout"),
        ("", "", ""),
    ],
    ids=["stdout-error", "traceback", "no-error-word", "stdout-only", "silent"],
)  # fmt: skip
def test_the_detail_quotes_the_line_that_holds_the_error(
    stdout: str, stderr: str, line: str
) -> None:
    assert error_line(stdout, stderr) == line


def _result(tool: str, outcome: str, reason: str | None = None) -> CellResult:
    return CellResult(
        id=f"{tool}/1/shell/r", tool=tool, variant="1", scenario="shell", release="r",
        outcome=outcome, reason=reason, detail="mytool not found on PATH",
    )  # fmt: skip


def test_nothing_tested_of_the_users_tools_says_why() -> None:
    mine = {"mytool"}
    skipped = [_result("mytool", "skipped", "requirement-missing"), _result("mytool", "n/a")]
    said = _nothing_tested([*skipped, _result("ecspresso", "pass")], mine)
    assert said is not None
    assert "nothing of your adapters was tested (mytool): 1 cells skipped, 1 n/a" in said
    assert "requirement-missing: mytool not found on PATH" in said
    assert _nothing_tested([*skipped, _result("mytool", "pass")], mine) is None
    assert _nothing_tested([_result("ecspresso", "skipped")], set()) is None


@pytest.mark.integration
def test_a_tool_stopped_by_an_unimplemented_operation_is_error_fake_aws_unsupported(
    fake_aws: FakeAWS, tmp_path: Path
) -> None:
    tool = tmp_path / "tool.py"
    tool.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            """\
            import boto3, sys
            # moto 5.2.5 has no GetConnectionStatus: the fake AWS answers UnknownOperation.
            boto3.client("ssm").get_connection_status(Target=sys.argv[1])
            """
        ),
        encoding="utf-8",
    )
    tool.chmod(0o755)
    adapter = tmp_path / "probe.toml"
    adapter.write_text(
        textwrap.dedent(
            f"""\
            name = "probe"
            homepage = "https://example.invalid/probe"
            kind = "ssm-session"

            [[variant]]
            version = "1"
            mode = "run"
            requires.binary = "{tool}"
            command = ["probe", "{{instance_id}}"]
            """
        ),
        encoding="utf-8",
    )
    cells = plan(
        [load_adapter(adapter)], filters=Filters(scenarios=("shell",), releases=("1.2.677.0",))
    )
    (result,) = run_cells(cells, fake=fake_aws, out_dir=tmp_path / "out", jobs=1, timeout=30)
    assert (result.outcome, result.reason) == ("error", "fake-aws-unsupported"), result.detail
    assert result.detail.startswith("ssm:GetConnectionStatus; tool exit 1: ")
    assert "UnknownOperationException" in result.detail


@pytest.mark.integration
@pytest.mark.slow
def test_a_run_of_an_adapter_that_tested_nothing_exits_1(tmp_path: Path) -> None:
    adapter = tmp_path / "absent.toml"
    adapter.write_text(
        textwrap.dedent(
            """\
            name = "absent"
            homepage = "https://example.invalid/absent"
            kind = "ecs-exec"

            [[variant]]
            version = "1"
            mode = "run"
            requires.binary = "/nonexistent/absent-tool"
            command = ["absent", "{cluster}"]
            """
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "compat", "run", "--adapters", str(adapter),
         "--adapter", "absent", "--release", "1.2.677.0", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "nothing of your adapters was tested (absent): 6 cells skipped, 1 n/a" in done.stdout
