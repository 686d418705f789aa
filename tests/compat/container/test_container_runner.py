"""``smp-compat run`` with an adapter that names an image: the matrix runs the tool in it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

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
