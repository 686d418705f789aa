"""Issue 3 acceptance: real callers and the fake plugin play out sessions against the fake AWS.

Expected terminal texts are docs/plugin.md's observed ones (§2.2, §2.3, §3.7), not the code's.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from compat.fakeaws import FakeAWS
from fake_plugin.releases import LEGACY_KMS_TEXT_NEW, LEGACY_KMS_TEXT_OLD
from tests.e2e.conftest import MakeSandbox, run_in

pytestmark = pytest.mark.integration

ERROR_HEAD = "\n----------ERROR-------\nEncountered error while initiating handshake. "


def closing_block(sid: str, output: str) -> str:
    """What the plugin prints for ``channel_closed`` with non-empty Output (§1, §2.2)."""
    return f"\n\nSessionId: {sid} : {output}\n\n"


def starting(sid: str) -> str:
    return f"\nStarting session with SessionId: {sid}\n"


def transcript(fake_aws: FakeAWS, sid: str) -> dict[str, Any]:
    found = fake_aws.wait_transcript(sid, timeout=10)
    assert found is not None, f"the agent wrote no transcript for {sid}"
    return found


def exec_command(aws_cli: str, target: Any, command: str) -> list[str]:
    return [
        aws_cli, "ecs", "execute-command",
        "--cluster", target.cluster_name,
        "--task", target.task_arn,
        "--container", target.container_name,
        "--interactive",
        "--command", command,
        "--region", target.region,
    ]  # fmt: skip


@pytest.mark.slow
def test_aws_cli_v1_exec_without_kms_runs_the_command(
    fake_aws: FakeAWS, aws_cli: str, sandbox_for: MakeSandbox
) -> None:
    target = fake_aws.seed_ecs_task()
    sandbox = sandbox_for()
    ran = run_in(sandbox, exec_command(aws_cli, target, "echo hello-from-the-task"))
    assert ran.returncode == 0, ran.stderr
    records = sandbox.records()
    # awscli checks the install first (argv of 1), then starts the session with 7 argv.
    assert [len(r["argv"]) for r in records] == [1, 7]
    sid = records[1]["parsed"]["session_id"]
    assert ran.stdout.startswith(
        "\nThe Session Manager plugin was installed successfully. Use the AWS CLI to start a "
        "session.\n\n" + starting(sid)
    )
    assert "hello-from-the-task" in ran.stdout
    assert ran.stdout.endswith(f"\n\nExiting session with sessionId: {sid}.\n\n")
    assert "This session is encrypted" not in ran.stdout
    assert transcript(fake_aws, sid)["outcome"] == "completed"


@pytest.mark.slow
def test_aws_cli_v1_exec_with_kms_is_encrypted_and_passes_the_challenge(
    fake_aws: FakeAWS, aws_cli: str, sandbox_for: MakeSandbox
) -> None:
    target = fake_aws.seed_ecs_task(kms_key=True)
    sandbox = sandbox_for()
    ran = run_in(sandbox, exec_command(aws_cli, target, "echo secret-hello"))
    assert ran.returncode == 0, ran.stderr
    sid = sandbox.records()[-1]["parsed"]["session_id"]
    assert starting(sid) + "This session is encrypted using AWS KMS.\n" in ran.stdout
    assert "secret-hello" in ran.stdout
    seen = transcript(fake_aws, sid)
    assert seen["encrypted"] is True
    assert seen["challenge"] == "passed"
    assert seen["outcome"] == "completed"


def _execute_command(fake_aws: FakeAWS, target: Any) -> dict[str, str]:
    ecs = fake_aws.client("ecs", target.region)
    response = ecs.execute_command(
        cluster=target.cluster_name,
        task=target.task_arn,
        container=target.container_name,
        interactive=True,
        command="/bin/sh",
    )
    session: dict[str, str] = response["session"]
    return session


@pytest.mark.parametrize(
    ("release", "text"),
    [("1.2.234.0", LEGACY_KMS_TEXT_OLD), ("1.2.677.0", LEGACY_KMS_TEXT_NEW)],
    ids=["old-text", "new-text"],
)
def test_legacy_four_argv_against_kms_ends_with_the_upgrade_error(
    fake_aws: FakeAWS, sandbox_for: MakeSandbox, release: str, text: str
) -> None:
    """§2.1-§2.2: ``<response> <region> StartSession`` sets IsAwsCliUpgradeNeeded."""
    target = fake_aws.seed_ecs_task(kms_key=True)
    session = _execute_command(fake_aws, target)
    sandbox = sandbox_for(release)
    argv = ["session-manager-plugin", json.dumps(session), target.region, "StartSession"]
    ran = run_in(sandbox, argv)
    sid = session["sessionId"]
    output = (
        ERROR_HEAD + "KMSEncryption failed on client with status 2 error: "
        "Failed to process action KMSEncryption: " + text
    )
    assert (ran.returncode, ran.stderr) == (0, "")
    assert ran.stdout == starting(sid) + closing_block(sid, output)
    assert transcript(fake_aws, sid)["outcome"] == "client-handshake-error"


def test_seven_argv_with_a_wrong_target_fails_to_decrypt_on_the_agent(
    fake_aws: FakeAWS, sandbox_for: MakeSandbox
) -> None:
    """§2.3: the agent decrypts with its own TargetId; the plugin's context differs."""
    target = fake_aws.seed_ecs_task(kms_key=True)
    session = _execute_command(fake_aws, target)
    wrong = json.dumps({"Target": f"ecs:{target.cluster_name}_{target.task_id}_"})
    argv = [
        "session-manager-plugin", json.dumps(session), target.region, "StartSession",
        "", wrong, fake_aws.endpoint_url,
    ]  # fmt: skip
    ran = run_in(sandbox_for(), argv)
    sid = session["sessionId"]
    output = (
        ERROR_HEAD + "Fetching data key failed: Unable to retrieve data key, "
        "Error when decrypting data key InvalidCiphertextException: "
    )
    assert (ran.returncode, ran.stderr) == (0, "")
    assert ran.stdout == starting(sid) + closing_block(sid, output)
    assert transcript(fake_aws, sid)["outcome"] == "kms-decrypt-failed"


def test_a_profile_that_does_not_exist_has_no_credentials_for_kms(
    fake_aws: FakeAWS, sandbox_for: MakeSandbox
) -> None:
    """§1.3: a non-empty args[4] skips env keys; a missing profile leaves no provider.

    Credentials resolve when the request is signed, so the error comes back from the
    GenerateDataKey call with that call's prefix (``SMP:src/encryption/kmsservice.go``).
    """
    target = fake_aws.seed_ecs_task(kms_key=True)
    session = _execute_command(fake_aws, target)
    argv = [
        "session-manager-plugin", json.dumps(session), target.region, "StartSession",
        "nosuch", json.dumps({"Target": target.ssm_target}), fake_aws.endpoint_url,
    ]  # fmt: skip
    ran = run_in(sandbox_for(), argv)
    sid = session["sessionId"]
    assert (ran.returncode, ran.stderr) == (0, "")
    assert ran.stdout.startswith(starting(sid) + "\n\nSessionId: " + sid + " : " + ERROR_HEAD)
    assert (
        "Failed to process action KMSEncryption: Error calling KMS GenerateDataKey API: "
        "NoCredentialProviders: no valid providers in chain. Deprecated.\n"
        "\tFor verbose messaging see aws.Config.CredentialsChainVerboseErrors\n\n"
    ) in ran.stdout
    assert transcript(fake_aws, sid)["outcome"] == "client-handshake-error"


def test_the_right_seven_argv_passes_the_kms_handshake(
    fake_aws: FakeAWS, sandbox_for: MakeSandbox
) -> None:
    target = fake_aws.seed_ecs_task(kms_key=True)
    session = _execute_command(fake_aws, target)
    argv = [
        "session-manager-plugin", json.dumps(session), target.region, "StartSession",
        "", json.dumps({"Target": target.ssm_target}), fake_aws.endpoint_url,
    ]  # fmt: skip
    ran = run_in(sandbox_for(), argv, stdin=b"echo kms-ok\nexit\n")
    sid = session["sessionId"]
    assert ran.returncode == 0
    assert ran.stdout.startswith(starting(sid) + "This session is encrypted using AWS KMS.\n")
    assert "kms-ok" in ran.stdout
    seen = transcript(fake_aws, sid)
    assert (seen["challenge"], seen["outcome"]) == ("passed", "completed")
    # The stage's shell is ready at HandshakeComplete: no input is refused, so no cell waits
    # out the plugin's retransmission timeout (0.3-1 s) for a resend.
    assert "handler-not-ready" not in [d["event"] for d in seen["decisions"]]


def test_a_tool_that_ignores_the_endpoint_is_caught_by_the_proxy(
    fake_aws: FakeAWS, aws_cli: str, sandbox_for: MakeSandbox
) -> None:
    """An SDK that skips AWS_ENDPOINT_URL goes to the real host: the proxy refuses it."""
    env = fake_aws.env()
    del env["AWS_ENDPOINT_URL"], env["AWS_ENDPOINT_URL_ECS"]
    sandbox = sandbox_for(env=env)
    key_id = env["AWS_ACCESS_KEY_ID"]
    fake_aws.proxy.set_allowed_hosts(["kms.*.amazonaws.com"], access_key_id=key_id)
    ran = run_in(sandbox, [aws_cli, "ecs", "list-clusters", "--region", "eu-west-1"])
    assert ran.returncode != 0
    refused = fake_aws.proxy.refusals(key_id)
    assert [r.host for r in refused][:1] == ["ecs.eu-west-1.amazonaws.com"]


def test_nothing_listens_beyond_loopback(fake_aws: FakeAWS) -> None:
    ports = {port for _, port in fake_aws.bound_addresses()}
    listening = subprocess.run(["ss", "-Htln"], capture_output=True, text=True, check=False).stdout
    if not listening:
        pytest.skip("`ss` (iproute2) is not available to list listening sockets")
    for line in listening.splitlines():
        local = line.split()[3]
        host, _, port = local.rpartition(":")
        if int(port) in ports:
            assert host in ("127.0.0.1", "[::ffff:127.0.0.1]"), line
