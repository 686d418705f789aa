"""``smp-compat serve`` as a user runs it: a real process, exports to paste, clean stop."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

pytestmark = pytest.mark.integration


def _serve(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.Popen(
        [sys.executable, "-m", "compat", "serve", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
    )  # fmt: skip


def test_serve_prints_exports_and_demo_commands_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = _serve("--demo", "--kms", "--region", "eu-central-1", cwd=tmp_path)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("# fake AWS is ready"):
                break
        exports = dict(
            shlex.split(line[len("export ") :])[0].split("=", 1)
            for line in lines
            if line.startswith("export ")
        )
        assert exports["AWS_REGION"] == "eu-central-1"
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", exports["AWS_ENDPOINT_URL"])
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", exports["HTTPS_PROXY"])
        assert Path(exports["AWS_CA_BUNDLE"]).is_file()
        (execute,) = [x for x in lines if x.startswith("aws ecs execute-command ")]
        (start,) = [x for x in lines if x.startswith("aws ssm start-session ")]
        argv = shlex.split(execute)
        cluster, task = argv[argv.index("--cluster") + 1], argv[argv.index("--task") + 1]
        ecs = boto3.client(
            "ecs",
            region_name=exports["AWS_REGION"],
            endpoint_url=exports["AWS_ENDPOINT_URL"],
            aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
        )
        described = ecs.describe_tasks(cluster=cluster, tasks=[task])["tasks"][0]
        assert described["enableExecuteCommand"] is True
        config = ecs.describe_clusters(clusters=[cluster])["clusters"][0]["configuration"]
        assert config["executeCommandConfiguration"]["kmsKeyId"].startswith("arn:aws:kms:")
        assert shlex.split(start)[-1].startswith("i-")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "fake AWS stopped" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", "nowhere"], "--region 'nowhere' is not a region name (e.g. eu-west-1)"),
        (["--kms"], "--kms only applies to the demo resources; add --demo"),
    ],
)
def test_serve_bad_input_is_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    proc = _serve(*args, cwd=tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err == f"smp-compat serve: error: {message}\n"
    assert out == ""
