"""The pytest plugin and its harness: the documented example runs, with the AWS CLI v1."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import boto3
import pytest

from compat.fakeaws import FakeAWS
from compat.integrations.session_check import Harness, SessionAssertionError
from compat.plan.errors import UnknownScenarioError

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "README.md"
AWS = Path(sys.executable).parent / "aws"


def _example() -> str:
    """The Python block after the example marker in README.md."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(
        r"<!-- example: tests/compat/test_pytest_plugin\.py.*?```python\n(.*?)```", text, re.S
    )
    assert found is not None, "README.md lost its example test"
    return found[1]


def _plugin_args() -> list[str]:
    """``-p compat.integrations.pytest_plugin`` unless the entry point already loads it."""
    installed = any(
        e.value == "compat.integrations.pytest_plugin"
        for e in metadata.entry_points(group="pytest11")
    )
    return [] if installed else ["-p", "compat.integrations.pytest_plugin"]


def test_the_entry_point_names_the_plugin_module() -> None:
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    assert table["pytest11"] == {"smp-compat": "compat.integrations.pytest_plugin"}


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(not AWS.exists(), reason="AWS CLI v1 (PyPI awscli) is not installed here")
def test_the_documented_example_passes_with_the_aws_cli(pytester: pytest.Pytester) -> None:
    # A subprocess: an in-process run would unload moto's lazily imported modules afterwards
    # (pytester's sys.modules snapshot) under this process's running stage.
    pytester.makepyfile(test_example=_example())
    result = pytester.runpytest_subprocess(
        *_plugin_args(), "--strict-markers", "-p", "no:cacheprovider", timeout=240
    )
    result.assert_outcomes(passed=5)


REUSE = """
import pytest
from compat.fakeaws import FakeAWS

MINE = []

def pytest_configure(config):
    MINE.append(FakeAWS().start())

def pytest_unconfigure(config):
    MINE.pop().stop()
"""


@pytest.mark.slow
@pytest.mark.integration
def test_a_running_fake_aws_is_reused_and_left_running(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(REUSE)
    pytester.makepyfile(
        """
        from conftest import MINE

        def test_reused(smp_fake_aws):
            assert smp_fake_aws is MINE[0]

        def test_still_running():
            assert MINE[0].endpoint_url.startswith("http://127.0.0.1:")
        """
    )
    result = pytester.runpytest_subprocess(*_plugin_args(), "-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=2)


def test_options_are_grouped_and_the_marker_is_registered(pytester: pytest.Pytester) -> None:
    help_text = pytester.runpytest(*_plugin_args(), "--help").stdout.str()
    assert "smp-compat" in help_text and "--smp-release" in help_text
    assert "--smp-real-plugin" in help_text
    markers = pytester.runpytest(*_plugin_args(), "--markers").stdout.str()
    assert "@pytest.mark.smp_scenario(name='kms'" in markers


@pytest.mark.slow
@pytest.mark.integration
def test_a_legacy_caller_in_process_gets_the_legacy_argv_verdict(
    fake_aws: FakeAWS, tmp_path: Path
) -> None:
    """Without pytest's fixtures: the harness alone, a tool called in-process (boto3 in this
    process, then the plugin with 4 argv, as ecspresso before v1.6.0)."""
    session = Harness(fake_aws, tmp_path).session("kms")
    with session.environ():
        ecs = boto3.Session().client("ecs")
        response = ecs.execute_command(
            cluster=session.cluster, task=session.task_id, container=session.container,
            interactive=True, command="/bin/sh",
        )  # fmt: skip
        argv = ["session-manager-plugin", json.dumps(response["session"]), session.region,
                "StartSession"]  # fmt: skip
        done = subprocess.run(argv, input=session.shell_input, capture_output=True, check=False)
        session.tool_exited(done.returncode)
    session.assert_started_with(argc=4)
    verdict = session.assert_verdict("fail", "legacy-argv")
    assert "argv[4..6]" in verdict.remedy
    with pytest.raises(SessionAssertionError, match=r"legacy-argv .*Fix: Pass profile"):
        session.assert_encrypted()
    with pytest.raises(SessionAssertionError, match="with 4 arguments, not 7"):
        session.assert_started_with(argc=7)


def test_a_session_that_never_started_the_plugin_says_so(fake_aws: FakeAWS, tmp_path: Path) -> None:
    session = Harness(fake_aws, tmp_path).session("shell")
    ran = session.run(["sh", "-c", "exit 3"])
    assert ran.exit_code == 3
    with pytest.raises(SessionAssertionError, match=r"never started.*plugin-not-called"):
        session.assert_started_with(argc=7)


def test_an_unknown_scenario_lists_the_known_ones(fake_aws: FakeAWS, tmp_path: Path) -> None:
    with pytest.raises(UnknownScenarioError, match="known: shell, kms, kms-profile"):
        Harness(fake_aws, tmp_path).session("kmz")


USERS_MOTO = """
import boto3
import pytest
from moto import mock_aws


@pytest.fixture(scope="session", autouse=True)
def users_moto():
    # A suite's own moto, seeded before any smp_* fixture starts.
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="users-bucket")
        boto3.client("ssm", region_name="eu-west-1").put_parameter(
            Name="/users/param", Value="kept", Type="String"
        )
        yield


def users_state():
    buckets = boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"]
    param = boto3.client("ssm", region_name="eu-west-1").get_parameter(Name="/users/param")
    return [b["Name"] for b in buckets], param["Parameter"]["Value"]
"""

#: ecspresso before v1.6.0 in a subprocess: ExecuteCommand, then the plugin with 4 argv.
LEGACY_CALLER = """
import json, subprocess, sys
import boto3
cluster, task, container, region = sys.argv[1:5]
session = boto3.client("ecs").execute_command(
    cluster=cluster, task=task, container=container, interactive=True, command="/bin/sh"
)["session"]
argv = ["session-manager-plugin", json.dumps(session), region, "StartSession"]
sys.exit(subprocess.run(argv).returncode)  # stdin: the harness's shell input
"""


@pytest.mark.integration
@pytest.mark.slow
def test_the_fixtures_are_guests_in_the_users_moto(pytester: pytest.Pytester) -> None:
    """A suite with its own moto state: the smp_* fixtures start beside it, leave it intact,
    and a kit session still gets its real verdict, also after the user's own ``mock_aws``
    test reset moto's backends in between; the user's ECS tasks keep moto's ids and states."""
    pytester.makeconftest(USERS_MOTO)
    pytester.makepyfile(
        f"""
        import sys
        import boto3
        from moto import mock_aws
        from conftest import users_state

        CALLER = {LEGACY_CALLER!r}

        def check_legacy(session):
            ran = session.run(
                [sys.executable, "-c", CALLER, session.cluster, session.task_id,
                 session.container, session.region]
            )
            assert ran.exit_code is not None
            session.assert_verdict("fail", "legacy-argv")

        def test_a_kit_session(smp_session):
            check_legacy(smp_session)

        def test_the_users_state_is_intact():
            assert users_state() == (["users-bucket"], "kept")

        def test_the_users_ecs_tasks_keep_motos_ids_and_lifecycle():
            subnet = boto3.client("ec2", region_name="eu-west-1").describe_subnets()
            ecs = boto3.client("ecs", region_name="eu-west-1")
            ecs.create_cluster(clusterName="users")
            ecs.register_task_definition(
                family="users", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
                cpu="256", memory="512",
                containerDefinitions=[{{"name": "c", "image": "x", "memory": 64}}],
            )
            network = {{"subnets": [subnet["Subnets"][0]["SubnetId"]], "securityGroups": []}}
            task = ecs.run_task(
                cluster="users", taskDefinition="users", launchType="FARGATE",
                networkConfiguration={{"awsvpcConfiguration": network}},
            )["tasks"][0]
            assert task["taskArn"].rsplit("/", 1)[1].count("-") == 4  # moto's dashed UUID
            described = [
                ecs.describe_tasks(cluster="users", tasks=[task["taskArn"]])["tasks"][0]
                for _ in range(2)
            ]
            assert [d["lastStatus"] for d in described] == ["DEACTIVATING", "STOPPING"]
            assert "runtimeId" not in described[0]["containers"][0]

        @mock_aws
        def test_a_users_own_mock_aws_test():
            boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="scratch")

        def test_a_kit_session_after_the_users_reset(smp_harness):
            check_legacy(smp_harness.session("kms"))
        """
    )
    result = pytester.runpytest_subprocess(*_plugin_args(), "-p", "no:cacheprovider", timeout=240)
    result.assert_outcomes(passed=5)
