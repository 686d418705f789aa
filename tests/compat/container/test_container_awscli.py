"""Issue 6 acceptance: the AWS CLI v1 inside a container built from a local rootfs gives the same
verdict-relevant evidence as on the host: the same plugin argv shape in the record, a
completed session, encrypted under a KMS cluster, against the real FakeAWS.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from compat.fakeaws import FakeAWS
from compat.runner.container import run_in_container
from compat.runner.sandbox import Sandbox, make_sandbox
from tests.e2e.conftest import run_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def exec_argv(aws: str, target: Any, *extra: str) -> list[str]:
    return [
        aws, "ecs", "execute-command",
        "--cluster", target.cluster_name,
        "--task", target.task_arn,
        "--container", target.container_name,
        "--interactive",
        "--command", "echo hello-from-the-task",
        "--region", target.region,
        *extra,
    ]  # fmt: skip


def shape(record: dict[str, Any], target: Any, root: Path) -> dict[str, Any]:
    """What a verdict reads from a record, with the cell's unique names made generic."""
    argv = list(record["argv"])
    shown: dict[str, Any] = {
        "argc": len(argv),
        "branch": record.get("branch"),
        "env_names": sorted(record.get("env") or {}),
        "cwd": str(Path(record["cwd"]).relative_to(root)),
    }
    if len(argv) == 7:
        target_arg = json.loads(argv[5])
        shown |= {
            "response_keys": sorted(json.loads(argv[1])),
            "region": argv[2],
            "operation": argv[3],
            "profile": argv[4],
            "target_keys": sorted(target_arg),
            "target_is_the_task": target_arg.get("Target") == target.ssm_target,
            "endpoint": argv[6],
            "stdin_isatty": record.get("stdin_isatty"),
            "exit_code": record.get("exit_code"),
        }
    return shown


def sandbox(root: Path, fake_aws: FakeAWS, profile: str | None) -> Sandbox:
    env = fake_aws.env()
    credentials = ""
    if profile is not None:
        key, secret = env.pop("AWS_ACCESS_KEY_ID"), env.pop("AWS_SECRET_ACCESS_KEY")
        credentials = f"[{profile}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
    return make_sandbox(
        root,
        env,
        release="1.2.677.0",
        tool_dirs=[Path(sys.executable).parent],
        aws_credentials=credentials,
    )


@pytest.mark.parametrize("profile", [None, "dev"], ids=["env-keys", "named-profile"])
def test_aws_cli_v1_in_a_container_matches_the_host(
    fake_aws: FakeAWS, awscli_image: str, tmp_path: Path, profile: str | None
) -> None:
    extra = ("--profile", profile) if profile else ()
    seen: dict[str, Any] = {}
    code: int | None
    for where in ("host", "container"):
        target = fake_aws.seed_ecs_task(kms_key=True)
        box = sandbox(tmp_path / where, fake_aws, profile)
        if where == "host":
            aws = str(Path(sys.executable).parent / "aws")
            ran = run_in(box, exec_argv(aws, target, *extra))
            code, stdout = ran.returncode, ran.stdout
        else:
            result = run_in_container(
                awscli_image, exec_argv("aws", target, *extra), box.env, box, timeout=90
            )
            assert not result.timed_out
            assert result.relayed == 2  # the install check and the session
            code, stdout = result.returncode, result.stdout.decode()
        assert code == 0, stdout
        records = box.records()
        sid = records[-1]["parsed"]["session_id"]
        transcript = fake_aws.wait_transcript(sid, timeout=10)
        assert transcript is not None
        seen[where] = {
            "records": [shape(r, target, box.root) for r in records],
            "encrypted_text": "This session is encrypted using AWS KMS.\n" in stdout,
            "ran_the_command": "hello-from-the-task" in stdout,
            "exited": stdout.endswith(f"\n\nExiting session with sessionId: {sid}.\n\n"),
            "outcome": transcript["outcome"],
            "encrypted": transcript["encrypted"],
            "challenge": transcript["challenge"],
        }
    host = seen["host"]
    assert [r["argc"] for r in host["records"]] == [1, 7]
    assert host["records"][1]["target_is_the_task"]
    assert host["records"][1]["profile"] == (profile or "")
    assert (host["outcome"], host["encrypted"], host["challenge"]) == ("completed", True, "passed")
    assert seen["container"] == host
