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
    assert set(re.findall(r"(?:^\s*|run: )smp-compat (\w+)", text, re.M)) == {
        "run",
        "report",
        "diff",
    }
    parser = build_parser()
    parser.parse_args(["run", "--adapters", "a", "--out", "o"])
    parser.parse_args(["report", "o/matrix.json"])
    parser.parse_args(
        ["diff", "b", "h", "--missing-base-ok", "--marker", "m", "--link", "l", "--out", "d.md"]
    )
