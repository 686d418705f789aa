"""Real-plugin mode: the same stage with AWS's binary, recorded through the shim's ``--real``.

Set ``SMP_COMPAT_REAL_PLUGIN=/path/to/session-manager-plugin`` to run these; the kit never
ships or builds the real plugin. Its KMS client ignores endpoint overrides and reaches the fake
KMS through the proxy with the CA bundle (docs/plugin.md §4, "Working recipe").
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from compat.adapter.load import load_adapter, load_adapters
from compat.fakeaws import FakeAWS
from compat.plan.cells import Filters, plan
from compat.runner import run_cells
from compat.runner.sandbox import make_sandbox
from tests.compat.test_reconnect import _ssm_endpoint_replay
from tests.e2e.conftest import run_in

pytestmark = pytest.mark.integration

REAL = os.environ.get("SMP_COMPAT_REAL_PLUGIN", "")
GOLDEN = Path(__file__).parent.parent / "fake_plugin" / "golden"
#: The fault line's address and pc come from the build's compiler (addr=0x8 with Go 1.26 for
#: the same nil ``*string``): they are compared as a shape, not byte for byte.
SIGSEGV = re.compile(
    rb"\[signal SIGSEGV: segmentation violation code=0x1 addr=0x[0-9a-f]+ pc=0x[0-9a-f]+\]"
)


@pytest.fixture
def real_plugin() -> Path:
    if not REAL:
        pytest.skip("set SMP_COMPAT_REAL_PLUGIN to a session-manager-plugin binary to run this")
    path = Path(REAL)
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"SMP_COMPAT_REAL_PLUGIN={REAL} is not an executable file")
    return path


@pytest.mark.slow
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


@pytest.mark.slow
def test_real_and_fake_print_the_same_for_an_encrypted_exec(
    real_plugin: Path, fake_aws: FakeAWS, aws_cli: str, tmp_path: Path
) -> None:
    """What the caller sees of a whole KMS session (stdout, stderr, exit) is the same, byte for
    byte but for the session id: the check the matrix's verdicts cannot make."""
    version = subprocess.run(
        [str(real_plugin), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    seen = []
    for name, kwargs in (("real", {"real_plugin": real_plugin}), ("fake", {"release": version})):
        target = fake_aws.seed_ecs_task(kms_key=True)
        sandbox = make_sandbox(
            tmp_path / name, fake_aws.env(ssl_cert_file=True), tool_dirs=[Path(aws_cli).parent],
            **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip
        ran = run_in(
            sandbox,
            [aws_cli, "ecs", "execute-command", "--cluster", target.cluster_name,
             "--task", target.task_arn, "--container", target.container_name,
             "--interactive", "--command", "echo same-ok", "--region", target.region],
        )  # fmt: skip
        sid = json.loads(sandbox.records()[-1]["argv"][1])["sessionId"]
        seen.append((ran.returncode, ran.stdout.replace(sid, "<sid>"), ran.stderr))
    assert seen[0] == seen[1]
    assert "same-ok" in seen[0][1]


def _starting_line(cmd: list[str], env: dict[str, str], want: bytes) -> bytes:
    """What the plugin printed until ``want`` (or EOF, or 10 s); then kill it: it would dial."""
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    data, deadline = b"", time.monotonic() + 10
    try:
        while len(data) < len(want) and time.monotonic() < deadline:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            data += chunk
    finally:
        proc.kill()
        proc.wait()
    return data


def test_real_plugin_answers_every_golden_row(real_plugin: Path, tmp_path: Path) -> None:
    """The goldens the fake is held to (written from the spec, never from the fake) are what
    the binary prints: exit code, stdout byte for byte, the panic and its ``session.go`` line."""
    version = subprocess.run(
        [str(real_plugin), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    path = GOLDEN / f"{version}.json"
    if not path.exists():
        pytest.skip(f"no golden file for release {version}")
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_SSM_START_SESSION_RESPONSE", "SMP_COMPAT_"))
    }
    base["HOME"] = str(tmp_path)  # the plugin writes its log under $HOME
    differ = []
    for row in json.loads(path.read_text(encoding="utf-8"))["rows"]:
        cmd, env = [str(real_plugin), *row["args"]], {**base, **row["env"]}
        if "stdout_prefix" in row:
            want = row["stdout_prefix"].encode()
            got = _starting_line(cmd, env, want)
            if not got.startswith(want):
                differ.append(f"{row['id']}: stdout {got[:200]!r}, golden {want!r}")
            continue
        ran = subprocess.run(
            cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False
        )
        head = SIGSEGV.sub(b"[signal SIGSEGV]", ran.stderr[: len(row["stderr_head"]) + 200])
        want_head = SIGSEGV.sub(b"[signal SIGSEGV]", row["stderr_head"].encode())
        frame = f"/sessionmanagerplugin/session/{row.get('frame')} +0x".encode()
        if ran.returncode != row["exit"] or ran.stdout != row["stdout"].encode():
            differ.append(f"{row['id']}: exit {ran.returncode}, stdout {ran.stdout[:200]!r}")
        elif not head.startswith(want_head) or (want_head and frame not in ran.stderr):
            differ.append(f"{row['id']}: stderr {ran.stderr[:300]!r}")
    assert differ == []


@pytest.mark.slow
def test_real_plugin_resumes_at_an_ssm_endpoint_and_not_at_ecs(
    real_plugin: Path, fake_aws: FakeAWS, tmp_path: Path
) -> None:
    """The ``reconnect`` verdicts hold with AWS's binary (its resume path is the one the fake
    copies): a replay handing it the SSM endpoint resumes after the drop and passes; ecspresso
    1.6.0's, which hands it ECS's endpoint, fails ``resume-failed`` with the calls it made."""
    tools = [*load_adapters(), load_adapter(_ssm_endpoint_replay(tmp_path))]
    filters = Filters(adapters=("ssm-endpoint/1.0", "ecspresso/1.6.0"), scenarios=("reconnect",))
    cells = plan(tools, releases=("real",), filters=filters)
    ran = run_cells(
        cells, fake=fake_aws, out_dir=tmp_path / "out", jobs=2, timeout=30,
        real_plugin=real_plugin, install=False,
    )  # fmt: skip
    results = {r.id: r for r in ran}
    assert sorted(results) == ["ecspresso/1.6.0/reconnect/real", "ssm-endpoint/1.0/reconnect/real"]
    good = results["ssm-endpoint/1.0/reconnect/real"]
    assert (good.outcome, good.reason, good.warnings) == ("pass", None, ()), good.detail
    bad = results["ecspresso/1.6.0/reconnect/real"]
    assert (bad.outcome, bad.reason) == ("fail", "resume-failed"), bad.detail
    assert "ResumeSession call(s) at argv[6] 'https://ecs.us-east-1.amazonaws.com', 0 answered" in (
        bad.detail
    )
