"""Real-plugin mode: the same stage with AWS's binary, recorded through the shim's ``--real``.

Set ``SMP_COMPAT_REAL_PLUGIN=/path/to/session-manager-plugin`` to run these; the kit never
ships or builds the real plugin. Its KMS client ignores endpoint overrides and reaches the fake
KMS through the proxy with the CA bundle (docs/plugin.md §4, "Working recipe").
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from compat.fakeaws import FakeAWS
from compat.sandbox import make_sandbox
from tests.e2e.conftest import run_in

pytestmark = pytest.mark.integration

REAL = os.environ.get("SMP_COMPAT_REAL_PLUGIN", "")


@pytest.fixture
def real_plugin() -> Path:
    if not REAL:
        pytest.skip("set SMP_COMPAT_REAL_PLUGIN to a session-manager-plugin binary to run this")
    path = Path(REAL)
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"SMP_COMPAT_REAL_PLUGIN={REAL} is not an executable file")
    return path


def test_real_plugin_passes_an_encrypted_exec(
    real_plugin: Path, fake_aws: FakeAWS, aws_cli: str, tmp_path: Path
) -> None:
    target = fake_aws.seed_ecs_task(kms_key=True)
    sandbox = make_sandbox(
        tmp_path, fake_aws.env(ssl_cert_file=True), real_plugin=real_plugin,
        tool_dirs=[Path(aws_cli).parent],
    )  # fmt: skip
    ran = run_in(
        sandbox,
        [aws_cli, "ecs", "execute-command", "--cluster", target.cluster_name,
         "--task", target.task_arn, "--container", target.container_name,
         "--interactive", "--command", "echo real-ok", "--region", target.region],
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "This session is encrypted using AWS KMS.\n" in ran.stdout
    assert "real-ok" in ran.stdout
    sid = sandbox.records()[-1]["argv"][1]
    seen = fake_aws.wait_transcript(json.loads(sid)["sessionId"], timeout=10)
    assert seen is not None
    assert seen["challenge"] == "passed"


def test_real_and_fake_print_the_same_for_legacy_argv(
    real_plugin: Path, fake_aws: FakeAWS, tmp_path: Path
) -> None:
    """Fidelity, measured: the fake's output equals the real binary's for the same argv."""
    version = subprocess.run(
        [str(real_plugin), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    outputs = []
    for name, kwargs in (("real", {"real_plugin": real_plugin}), ("fake", {"release": version})):
        target = fake_aws.seed_ecs_task(kms_key=True)
        session = fake_aws.client("ecs", target.region).execute_command(
            cluster=target.cluster_name, task=target.task_arn,
            container=target.container_name, interactive=True, command="/bin/sh",
        )["session"]  # fmt: skip
        sandbox = make_sandbox(tmp_path / name, fake_aws.env(), **kwargs)  # type: ignore[arg-type]
        ran = run_in(
            sandbox, ["session-manager-plugin", json.dumps(session), target.region, "StartSession"]
        )
        outputs.append((ran.returncode, ran.stdout.replace(session["sessionId"], "<sid>")))
    assert outputs[0] == outputs[1]
