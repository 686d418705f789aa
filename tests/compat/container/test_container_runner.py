"""``smp-compat run`` with an adapter that names an image: the matrix runs the tool in it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from compat.adapter.load import load_adapters
from compat.fakeaws import FakeAWS
from compat.plan.cells import Filters, plan
from compat.runner import run_cells
from compat.runner.container.engine import own_containers

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_an_image_adapter_runs_its_cells_in_the_container(
    awscli_image: str, tmp_path: Path
) -> None:
    """The AWS CLI v1 inside an image gets the verdicts the host run gets (issue 6 item 3)."""
    adapter = tmp_path / "boxed.toml"
    adapter.write_text(
        textwrap.dedent(
            f"""\
            name = "boxed-awscli"
            homepage = "https://github.com/aws/aws-cli"
            kind = "ecs-exec"

            [[variant]]
            id = "1.x-image"
            version = "1.x (image)"
            mode = "run"
            image = "{awscli_image}"
            command = ["aws", ["--profile", "{{profile}}"], "ecs", "execute-command",
                       "--cluster", "{{cluster}}", "--task", "{{task_arn}}",
                       "--container", "{{container}}", "--interactive", "--command", "{{command}}"]
            """
        ),
        encoding="utf-8",
    )
    out = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "compat", "run", "--adapters", str(adapter),
         "--adapter", "boxed-awscli", "--scenario", "shell", "--scenario", "kms",
         "--scenario", "kms-profile", "--scenario", "port-forward",
         "--release", "1.2.677.0", "--out", str(out), "--jobs", "2"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    cells = {
        c["id"]: (c["outcome"], c["reason"])
        for c in json.loads((out / "matrix.json").read_text())["cells"]
    }
    prefix = "boxed-awscli/1.x-image"
    assert cells == {
        f"{prefix}/shell/1.2.677.0": ("pass", None),
        f"{prefix}/kms/1.2.677.0": ("pass", None),
        f"{prefix}/kms-profile/1.2.677.0": ("pass", None),
        f"{prefix}/port-forward/1.2.677.0": ("n/a", "unsupported-scenario"),
    }, done.stdout + done.stderr
    assert done.returncode == 0, done.stderr


def test_a_container_killed_from_outside_is_a_harness_error_not_the_tools_failure(
    busybox: str, engine: Any, fake_aws: FakeAWS, tmp_path: Path
) -> None:
    """A tool whose container someone else kills (``podman kill``, the OOM killer) exits 137
    through no fault of its own: the cell says what happened and gives no verdict."""
    adapter = tmp_path / "sleeper.toml"
    adapter.write_text(
        textwrap.dedent(
            f"""\
            name = "sleeper"
            homepage = "https://example.com/sleeper"
            kind = "ecs-exec"

            [[variant]]
            id = "1.0"
            version = "1.0"
            mode = "run"
            image = "{busybox}"
            command = ["sleep", "60"]
            """
        ),
        encoding="utf-8",
    )
    cells = plan(
        load_adapters([adapter], builtin=False),
        filters=Filters(scenarios=("shell",), releases=("1.2.677.0",)),
    )
    killed: list[str] = []

    def kill_once_running() -> None:
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            for container in own_containers(engine, include_stopped=False):
                container.kill()
                killed.append(container.id)
            time.sleep(0.1)

    killer = threading.Thread(target=kill_once_running)
    killer.start()
    try:
        [result] = run_cells(cells, fake=fake_aws, out_dir=tmp_path / "out", jobs=1)
    finally:
        killer.join()
    assert killed, "the container never ran"
    assert (result.outcome, result.reason) == ("error", "harness-error"), result
    assert "SIGKILL (exit 137) that smp-compat did not send" in result.detail
    # Judged like any cell: what the tool printed is kept beside the verdict.
    assert {"tool_stderr", "verdict"} <= result.evidence.keys(), result.evidence
