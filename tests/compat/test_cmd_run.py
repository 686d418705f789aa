"""``smp-compat run``: a new tool from adapters/README.md alone, exit status, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from compat.cli import main

#: A tool the kit has never seen: boto3 ExecuteCommand, DescribeTasks for the runtime id, then
#: the plugin with the 7 argv `aws ecs execute-command` passes (or the legacy 4 with --legacy).
TOOL = """\
import argparse, json, os, subprocess, sys
import boto3

parser = argparse.ArgumentParser()
parser.add_argument("--cluster")
parser.add_argument("--task")
parser.add_argument("--container")
parser.add_argument("--profile")
parser.add_argument("--legacy", action="store_true")
parser.add_argument("command")
args = parser.parse_args()
session = boto3.Session(profile_name=args.profile)
ecs = session.client("ecs")
task = ecs.describe_tasks(cluster=args.cluster, tasks=[args.task])["tasks"][0]
runtime = next(c["runtimeId"] for c in task["containers"] if c["name"] == args.container)
response = ecs.execute_command(cluster=args.cluster, task=args.task, container=args.container,
                               interactive=True, command=args.command)
argv = ["session-manager-plugin", json.dumps(response["session"]), session.region_name,
        "StartSession"]
if not args.legacy:
    target = "ecs:%s_%s_%s" % (args.cluster, args.task, runtime)
    argv += [args.profile or "", json.dumps({"Target": target}),
             session.client("ssm").meta.endpoint_url]
sys.exit(subprocess.call(argv))
"""


def _adapter(tmp_path: Path, name: str, legacy: bool) -> Path:
    tool = tmp_path / f"{name}.py"
    tool.write_text(f"#!{sys.executable}\n{TOOL}", encoding="utf-8")
    tool.chmod(0o755)
    flag = '"--legacy", ' if legacy else ""
    path = tmp_path / f"{name}.toml"
    # The ten-line example of adapters/README.md, with requires.binary instead of PyPI.
    path.write_text(
        textwrap.dedent(
            f"""\
            name = "{name}"
            homepage = "https://example.invalid/{name}"
            kind = "ecs-exec"

            [[variant]]
            version = "1.2.3"
            mode = "run"
            requires.binary = "{tool}"
            command = ["{name}", {flag}"--cluster", "{{cluster}}", "--task", "{{task_id}}",
                       "--container", "{{container}}", ["--profile", "{{profile}}"], "{{command}}"]
            """
        ),
        encoding="utf-8",
    )
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compat", "run", *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.integration
@pytest.mark.slow
def test_a_new_tool_runs_from_its_adapter_file_alone(tmp_path: Path) -> None:
    good = _adapter(tmp_path, "newtool", legacy=False)
    legacy = _adapter(tmp_path, "oldtool", legacy=True)
    out = tmp_path / "reports"
    done = _run(
        "--adapters", str(good), "--adapters", str(legacy),
        "--adapter", "newtool", "--adapter", "oldtool",
        "--scenario", "shell", "--scenario", "kms", "--scenario", "kms-profile",
        "--release", "1.2.677.0", "--out", str(out), "--jobs", "2",
    )  # fmt: skip
    document = json.loads((out / "matrix.json").read_text())
    cells = {c["id"]: (c["outcome"], c["reason"]) for c in document["cells"]}
    assert cells == {
        "newtool/1.2.3/shell/1.2.677.0": ("pass", None),
        "newtool/1.2.3/kms/1.2.677.0": ("pass", None),
        "newtool/1.2.3/kms-profile/1.2.677.0": ("pass", None),
        "oldtool/1.2.3/shell/1.2.677.0": ("pass", None),
        "oldtool/1.2.3/kms/1.2.677.0": ("fail", "legacy-argv"),
        "oldtool/1.2.3/kms-profile/1.2.677.0": ("fail", "legacy-argv"),
    }, done.stderr
    # The user's own tool regressed: exit 1, and the failing cells are listed.
    assert done.returncode == 1, done.stderr
    assert "oldtool/1.2.3/kms/1.2.677.0: fail legacy-argv" in done.stdout
    assert document["schema_version"] == 1
    assert [r["user_adapter"] for r in document["rows"]] == [True, True]
    # The header says how isolated the tools ran, and why when less than designed.
    isolation = document["run"]["isolation"]
    assert isolation["mode"] in ("pidns", "subreaper", "none")
    assert (isolation["warning"] is None) == (isolation["mode"] == "pidns")
    assert "<dt>isolation</dt>" in (out / "index.html").read_text()
    text = (out / "matrix.md").read_text()
    assert "newtool" in text and "legacy-argv" in text
    # The reports come from the same document (compat.report, when installed).
    assert (out / "index.html").is_file() and (out / "junit.xml").is_file()
    # The run ends with the page to open, by a path that works from any directory.
    assert done.stdout.splitlines()[-1] == f"report page: {out / 'index.html'}", done.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--scenario", "kmz"], "unknown scenario 'kmz'; known: shell, kms,"),
        (["--adapter", "nosuch"], "--adapter 'nosuch' matches no tool"),
        (["--release", "9.9"], "--release '9.9' matches no emulated plugin release; known:"),
        (["--jobs", "0"], "--jobs 0: expected 1 or more"),
        (["--adapters", "/nonexistent.toml"], "--adapters /nonexistent.toml: no such file"),
    ],
    ids=["scenario", "adapter", "release", "jobs", "adapters-path"],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("smp-compat run: error: ") and message in err
    assert "Traceback" not in err
    assert not (tmp_path / "matrix.json").exists()


def test_a_malformed_adapter_gets_the_loaders_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "bad"\nhomepage = "x"\nkind = "ecs-exec"\n'
        '[[variant]]\nversion = "1"\nmode = "run"\ncomand = ["x"]\n'
    )
    assert main(["run", "--adapters", str(bad), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml: variant[0] (1).comand: unknown key" in err
    assert "Traceback" not in err
