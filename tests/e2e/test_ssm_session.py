"""Issue 3 acceptance: `aws ssm start-session` and the env-var response mode (spec §1.2)."""

from __future__ import annotations

import pytest

from compat.fakeaws import FakeAWS
from tests.e2e.conftest import MakeSandbox, run_in

pytestmark = pytest.mark.integration


@pytest.mark.slow
@pytest.mark.parametrize(
    ("release", "env_mode"),
    [("1.2.497.0", False), ("1.2.536.0", True), ("1.2.677.0", True)],
)
@pytest.mark.parametrize("kms", [False, True], ids=["plain", "kms"])
def test_aws_cli_uses_env_var_mode_exactly_above_1_2_497_0(
    fake_aws: FakeAWS,
    aws_cli: str,
    sandbox_for: MakeSandbox,
    release: str,
    env_mode: bool,
    kms: bool,
) -> None:
    """awscli passes the response by env var only when ``--version`` > 1.2.497.0; the
    session works both ways, encrypted with Session Manager preferences' key or not."""
    instance = fake_aws.seed_ec2_instance(kms_key=kms)
    sandbox = sandbox_for(release)
    ran = run_in(
        sandbox,
        [aws_cli, "ssm", "start-session", "--target", instance.instance_id,
         "--region", instance.region],
        stdin=b"echo ssm-works\nexit\n",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    records = sandbox.records()
    assert records[0]["argv"][1:] == ["--version"]
    start = records[-1]
    argv1 = start["argv"][1]
    assert (argv1 == "AWS_SSM_START_SESSION_RESPONSE") is env_mode
    assert start["parsed"]["env_var_name"] == (
        "AWS_SSM_START_SESSION_RESPONSE" if env_mode else None
    )
    assert len(start["argv"]) == 7
    sid = start["parsed"]["session_id"]
    assert f"\nStarting session with SessionId: {sid}\n" in ran.stdout
    assert ("This session is encrypted using AWS KMS.\n" in ran.stdout) is kms
    assert "ssm-works" in ran.stdout
    assert ran.stdout.endswith(f"\n\nExiting session with sessionId: {sid}.\n\n")
    seen = fake_aws.wait_transcript(sid, timeout=10)
    assert seen is not None
    assert seen["outcome"] == "completed"
