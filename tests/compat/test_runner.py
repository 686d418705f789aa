"""The runner against the real stage: replays, the AWS CLI v1, hung and crashing tools."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

from compat.adapter.load import load_adapter, load_adapters
from compat.fakeaws import FakeAWS
from compat.plan.cells import Filters, plan
from compat.runner import CellResult, run_cells
from compat.runner.process import run_process
from tests.procscan import running_with

pytestmark = pytest.mark.integration


def run(
    fake: FakeAWS, out: Path, tools: object, **filters: tuple[str, ...]
) -> dict[str, CellResult]:
    cells = plan(tools, filters=Filters(**filters))  # type: ignore[arg-type]
    results = run_cells(cells, fake=fake, out_dir=out, jobs=2, timeout=20, install=False)
    return {r.id: r for r in results}


@pytest.mark.slow
def test_replays_reach_the_verdicts_callers_md_documents(fake_aws: FakeAWS, tmp_path: Path) -> None:
    results = run(
        fake_aws,
        tmp_path,
        load_adapters(),
        adapters=("ecspresso/1.5.9", "ecspresso/1.6.0", "ecsk/0.6.1", "copilot/1.33.2"),
        scenarios=("shell", "kms"),
        releases=("1.2.677.0",),
    )
    seen = {k: (r.outcome, r.reason) for k, r in results.items()}
    assert seen == {
        "ecspresso/1.5.9/shell/1.2.677.0": ("pass", None),
        "ecspresso/1.5.9/kms/1.2.677.0": ("fail", "legacy-argv"),
        "ecspresso/1.6.0/shell/1.2.677.0": ("pass", None),
        "ecspresso/1.6.0/kms/1.2.677.0": ("pass", None),
        "ecsk/0.6.1/shell/1.2.677.0": ("pass", None),
        "ecsk/0.6.1/kms/1.2.677.0": ("fail", "target-mismatch"),
        "copilot/1.33.2/shell/1.2.677.0": ("pass", None),
        "copilot/1.33.2/kms/1.2.677.0": ("fail", "legacy-argv"),
    }
    failing = results["ecsk/0.6.1/kms/1.2.677.0"]
    assert failing.remedy and failing.explanation
    assert "endpoint-not-ssm" in failing.warnings
    for path in failing.evidence.values():
        assert (tmp_path / path).is_file()
    assert failing.tool_duration_s > 0 and failing.duration_s >= failing.tool_duration_s


@pytest.mark.slow
def test_the_aws_cli_v1_passes_kms_in_every_sandbox_shape(
    fake_aws: FakeAWS, tmp_path: Path
) -> None:
    if not (Path(sys.executable).parent / "aws").exists():
        pytest.skip("AWS CLI v1 (PyPI awscli) is not installed beside this interpreter")
    results = run(
        fake_aws,
        tmp_path,
        load_adapters(),
        adapters=("awscli-v1/ecs-exec",),
        scenarios=("kms", "kms-profile", "kms-env-credentials", "kms-region"),
        releases=("1.2.677.0",),
    )
    assert {r.outcome for r in results.values()} == {"pass"}, {
        k: (r.reason, r.detail) for k, r in results.items()
    }


def _tool_adapter(tmp_path: Path, script: str) -> Path:
    tool = tmp_path / "tool.py"
    tool.write_text(f"#!{sys.executable}\n" + textwrap.dedent(script), encoding="utf-8")
    tool.chmod(0o755)
    adapter = tmp_path / "tool.toml"
    adapter.write_text(
        textwrap.dedent(
            f"""\
            name = "weird"
            homepage = "https://example.invalid/weird"
            kind = "ecs-exec"

            [[variant]]
            version = "0.1"
            mode = "run"
            timeout = 2
            requires.binary = "{tool}"
            command = ["weird", "{{cluster}}"]
            """
        ),
        encoding="utf-8",
    )
    return adapter


def test_a_hung_tool_times_out_and_the_matrix_goes_on(fake_aws: FakeAWS, tmp_path: Path) -> None:
    adapter = load_adapter(_tool_adapter(tmp_path, "import time\ntime.sleep(60)\n"))
    started = time.monotonic()
    results = run(
        fake_aws, tmp_path / "out", [adapter], scenarios=("shell",), releases=("1.2.677.0",)
    )
    assert time.monotonic() - started < 15
    (result,) = results.values()
    assert (result.outcome, result.reason) == ("fail", "timeout")


def test_a_crashing_tool_is_plugin_not_called(fake_aws: FakeAWS, tmp_path: Path) -> None:
    adapter = load_adapter(_tool_adapter(tmp_path, "raise SystemExit('no such cluster')\n"))
    results = run(
        fake_aws, tmp_path / "out", [adapter], scenarios=("shell",), releases=("1.2.677.0",)
    )
    (result,) = results.values()
    assert (result.outcome, result.reason) == ("fail", "plugin-not-called")
    assert "no such cluster" in result.detail


def test_a_missing_program_is_skipped_never_pass(fake_aws: FakeAWS, tmp_path: Path) -> None:
    results = run(
        fake_aws, tmp_path, load_adapters(), adapters=("ecsk/installed",), releases=("1.2.677.0",)
    )
    outcomes = {(r.outcome, r.reason) for r in results.values()}
    assert outcomes <= {("skipped", "requirement-missing"), ("n/a", "unsupported-scenario")}


def test_a_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    marker = f"60.{time.monotonic_ns()}"
    script = (
        "import subprocess, time\n"
        f"child = subprocess.Popen(['sleep', {marker!r}])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    finished = run_process(
        [sys.executable, "-c", script],
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        stdout=tmp_path / "out",
        stderr=tmp_path / "err",
        timeout=1.5,
    )
    assert finished.timed_out and pid_file.exists()
    # Gone (a zombie waiting for a reaper that is not ours counts as gone).
    assert not running_with(f"sleep {marker}")


@pytest.mark.slow
def test_a_stopped_tool_leaves_its_plugin_the_grace_to_record(tmp_path: Path) -> None:
    """The tool dies of SIGTERM at once; the plugin it started, handling the same SIGTERM
    (the fake writes its record), must not be SIGKILLed as soon as the tool is reaped."""
    done = tmp_path / "recorded"
    ready = tmp_path / "ready"
    plugin = (
        "import pathlib, signal, sys, time\n"
        "def handler(signum, frame):\n"
        "    time.sleep(0.2)  # a record written under load\n"
        f"    pathlib.Path({str(done)!r}).write_text('yes')\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, handler)\n"
        f"pathlib.Path({str(ready)!r}).write_text('yes')\n"
        "time.sleep(60)\n"
    )
    tool = f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {plugin!r}])\n"
    tool += f"while not __import__('os').path.exists({str(ready)!r}): time.sleep(0.01)\n"
    tool += "time.sleep(60)\n"
    finished = run_process(
        [sys.executable, "-c", tool],
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        stdout=tmp_path / "out",
        stderr=tmp_path / "err",
        timeout=3.0,
    )
    assert finished.timed_out and ready.exists()
    assert done.exists()


def test_a_tty_tool_gets_a_terminal_and_its_scripted_input(tmp_path: Path) -> None:
    script = "import sys; print(sys.stdin.isatty(), sys.stdout.isatty()); print(input())"
    finished = run_process(
        [sys.executable, "-c", script],
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        stdout=tmp_path / "out",
        stderr=tmp_path / "err",
        stdin_script=b"marker-123\n",
        tty=True,
        timeout=10,
    )
    out = (tmp_path / "out").read_text()
    assert finished.exit_code == 0, (tmp_path / "err").read_text()
    assert "True True" in out and "marker-123" in out
