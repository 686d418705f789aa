"""The GitHub Actions integration (action.yml, .github/workflows/compat.yml), checked offline.

actionlint cannot be installed from PyPI here (its wheel build downloads a binary), so the files
are validated against SchemaStore's schemas as vendored by check-jsonschema, plus what a schema
cannot see: inputs and step ids that are used but not declared, and shell that does not parse.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from compat.cli import build_parser

ROOT = Path(__file__).resolve().parents[3]
ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / ".github" / "workflows" / "compat.yml"


def _vendored(name: str) -> dict[str, Any]:
    schemas = pytest.importorskip(
        "check_jsonschema.builtin_schemas", reason="check-jsonschema is not installed"
    )
    text = resources.files(schemas).joinpath("vendor", f"{name}.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _load(path: Path) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True; GitHub reads it as "on".
    data: dict[Any, Any] = yaml.safe_load(path.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def test_the_action_follows_the_github_actions_schema() -> None:
    jsonschema.validate(_load(ACTION), _vendored("github-actions"))


def test_the_workflow_follows_the_github_workflows_schema() -> None:
    workflow = _load(WORKFLOW)
    jsonschema.validate(workflow, _vendored("github-workflows"))
    assert "workflow_call" in workflow["on"]


def _expressions(text: str) -> list[str]:
    return re.findall(r"\$\{\{(.*?)\}\}", text, re.S)


@pytest.mark.parametrize("path", [ACTION, WORKFLOW], ids=["action", "workflow"])
def test_every_input_and_step_used_is_declared(path: Path) -> None:
    data = _load(path)
    declared = set((data.get("inputs") or data["on"]["workflow_call"]["inputs"]).keys())
    used = {
        m
        for e in _expressions(path.read_text())
        for m in re.findall(r"inputs\.([A-Za-z0-9_-]+)", e)
    }
    assert used <= declared, used - declared
    steps = (
        data["runs"]["steps"]
        if "runs" in data
        else [s for j in data["jobs"].values() for s in j["steps"]]
    )
    ids = {s["id"] for s in steps if "id" in s}
    referenced = {
        m
        for e in _expressions(path.read_text())
        for m in re.findall(r"steps\.([A-Za-z0-9_-]+)\.", e)
    }
    assert referenced <= ids, referenced - ids


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_every_run_script_parses() -> None:
    for step in _load(ACTION)["runs"]["steps"]:
        if "run" not in step:
            continue
        assert step.get("shell") == "bash", step["name"]  # composite steps must name their shell
        script = re.sub(r"\$\{\{.*?\}\}", "EXPR", step["run"])
        check = subprocess.run(
            ["bash", "-n"], input=script, text=True, capture_output=True, check=False
        )
        assert check.returncode == 0, f"{step['name']}: {check.stderr}"


def test_the_commands_the_action_runs_parse() -> None:
    text = ACTION.read_text()
    assert set(re.findall(r"(?:^\s*|run: )smp-compat (\w+)", text, re.M)) == {"run", "diff"}
    parser = build_parser()
    parser.parse_args(["run", "--adapters", "a", "--out", "o", "--scenario", "kms*"])
    parser.parse_args(
        ["diff", "b", "h", "--missing-base-ok", "--marker", "m", "--link", "l", "--out", "d.md"]
    )


# -- The action's own scripts, run with bash against stand-ins for smp-compat and gh -------------


def _script(name: str) -> str:
    step = next(s for s in _load(ACTION)["runs"]["steps"] if s["name"] == name)
    script: str = step["run"]
    assert "${{" not in script  # inputs reach scripts through env only (no injection)
    return script


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def _stand_in(bin_dir: Path, name: str, body: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)


def _run_step(tmp_path: Path, name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "runner").mkdir(exist_ok=True)
    full = {
        "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
        "RUNNER_TEMP": str(tmp_path / "runner"),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        **env,
    }
    return subprocess.run(
        ["bash", "-e", "-c", _script(name)],
        cwd=tmp_path,
        env=full,
        text=True,
        capture_output=True,
        check=False,
    )


_FAKE_RUN = """\
printf '%s\\n' "$@" > "$RUNNER_TEMP/argv"
out=""; while [ $# -gt 0 ]; do [ "$1" = --out ] && out=$2; shift; done
if [ -n "$WRITE" ]; then mkdir -p "$out"; echo '{}' > "$out/matrix.json"; fi
exit "${STATUS:-0}"
"""


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_documented_args_reach_the_kit_without_literal_quotes(tmp_path: Path) -> None:
    _stand_in(tmp_path / "bin", "smp-compat", _FAKE_RUN)
    env = {"ADAPTERS": "adapters", "OUT": "reports", "WRITE": "1"}
    done = _run_step(tmp_path, "Run the matrix", {**env, "ARGS": "--scenario 'kms*' --adapter x"})
    assert done.returncode == 0, done.stderr
    argv = (tmp_path / "runner" / "argv").read_text().splitlines()
    assert argv == ["run", "--adapters", "adapters", "--out", "reports", "--scenario", "kms*",
                    "--adapter", "x"]  # fmt: skip
    assert _outputs(tmp_path / "output") == {"status": "0", "wrote": "true"}
    done = _run_step(tmp_path, "Run the matrix", {**env, "ARGS": "--scenario 'kms*"})
    assert done.returncode == 2 and "unbalanced quotes" in done.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_a_committed_matrix_is_never_taken_for_this_runs(tmp_path: Path) -> None:
    """A pull request commits reports/matrix.json and breaks the run: nothing to diff."""
    _stand_in(tmp_path / "bin", "smp-compat", _FAKE_RUN)
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "matrix.json").write_text('{"forged": true}')
    env = {"ADAPTERS": "adapters", "OUT": "reports", "ARGS": "", "STATUS": "2"}
    done = _run_step(tmp_path, "Run the matrix", env)
    assert done.returncode == 0, done.stderr
    assert _outputs(tmp_path / "output") == {"status": "2", "wrote": "false"}
    steps = {s["name"]: s for s in _load(ACTION)["runs"]["steps"]}
    for name in ("Upload the reports", "Diff against the base branch", "Publish the badge JSON"):
        assert "steps.run.outputs.wrote == 'true'" in steps[name]["if"], name


_FAKE_GH = """\
echo "$*" >> "$RUNNER_TEMP/gh-calls"
if [ "$2" = user ]; then echo 'Resource not accessible by integration' >&2; exit 1; fi
for ((i = 1; i <= $#; i++)); do
  if [ "${!i}" = --jq ]; then j=$((i + 1)); jq -r "${!j}" "$COMMENTS"; exit; fi
done
"""


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_the_sticky_comment_is_found_by_marker_and_author(tmp_path: Path) -> None:
    comments = [
        {"id": 1, "user": {"login": "mallory"}, "body": "<!-- smp-compat -->\nforged"},
        {"id": 2, "user": {"login": "github-actions[bot]"}, "body": "other bot comment"},
        {"id": 3, "user": {"login": "github-actions[bot]"}, "body": "<!-- smp-compat -->\nours"},
    ]
    (tmp_path / "comments.json").write_text(json.dumps(comments))
    (tmp_path / "runner").mkdir()
    (tmp_path / "runner" / "smp-compat-diff.md").write_text("<!-- smp-compat -->\nnew")
    _stand_in(tmp_path / "bin", "gh", _FAKE_GH)
    env = {"COMMENTS": str(tmp_path / "comments.json"), "PR": "7", "MARKER": "smp-compat",
           "GITHUB_REPOSITORY": "o/r", "GH_TOKEN": "x"}  # fmt: skip
    done = _run_step(tmp_path, "Post or update the sticky comment", env)
    assert done.returncode == 0, done.stderr
    calls = (tmp_path / "runner" / "gh-calls").read_text().splitlines()
    assert calls[-1].startswith("api --method PATCH repos/o/r/issues/comments/3 ")
    # Only the forged one: a new comment, the forged one left alone.
    (tmp_path / "comments.json").write_text(json.dumps(comments[:2]))
    done = _run_step(tmp_path, "Post or update the sticky comment", env)
    calls = (tmp_path / "runner" / "gh-calls").read_text().splitlines()
    assert calls[-1].startswith("api --method POST repos/o/r/issues/7/comments ")
