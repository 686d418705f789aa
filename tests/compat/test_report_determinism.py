"""Two runs of one commit write the same reports but for the run header (issue 14 item 4).

A maintainer commits ``reports/`` as the baseline of pull requests, so a rerun must change
nothing else: evidence directory names and contents, cells, rows, the page, ``matrix.md``,
``junit.xml`` and the badges. Real parts: the fake plugin, moto on 127.0.0.1, a user's tool
(boto3, then the plugin with AWS's response as argv[1]) and a built-in replay.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.compat.test_cmd_run import _adapter

#: The lines that carry the run header, per file; every other byte must not change.
HEADER_LINES = {
    "index.html": re.compile(r'<details class="meta">'),
    "matrix.md": re.compile(r"\d{4}-\d\d-\d\dT\S+ · \d+ cells · plugin "),
    "junit.xml": re.compile(r"<testsuites "),
}


def without_header(name: str, data: bytes) -> bytes:
    """A report file with its run header taken out (``matrix.json``: its ``run`` member)."""
    if name == "matrix.json":
        document = json.loads(data)
        assert isinstance(document.pop("run"), dict)
        return json.dumps(document).encode()
    pattern = HEADER_LINES.get(name)
    if pattern is None:
        return data
    lines = data.decode("utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not pattern.match(line)]
    assert len(lines) - len(kept) == 1, f"{name}: one run header line expected"
    return "".join(kept).encode()


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _run(cwd: Path, out: str) -> None:
    done = subprocess.run(
        [
            sys.executable, "-m", "compat", "run", "--adapters", "newtool.toml",
            "--adapters", "oldtool.toml", "--adapter", "newtool", "--adapter", "oldtool",
            "--adapter", "ecsk/0.6.2", "--scenario", "shell", "--scenario", "kms",
            "--scenario", "kms-profile", "--release", "1.2.677.0", "--jobs", "2",
            "--keep-evidence", "--out", out,
        ],
        cwd=cwd, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "PATH": f"{cwd}{os.pathsep}{os.environ['PATH']}"},
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # oldtool fails legacy-argv
    assert "fail legacy-argv" in done.stdout


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
    }  # fmt: skip
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.mark.integration
@pytest.mark.slow
def test_a_second_run_changes_only_the_run_header(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "tool"
    repo.mkdir()
    for name, legacy in (("newtool", False), ("oldtool", True)):
        # The tool by its name on PATH, as a maintainer's adapter names it.
        path = _adapter(repo, name, legacy=legacy)
        path.write_text(path.read_text().replace(str(repo / f"{name}.py"), f"{name}.py"))
    _run(repo, "reports")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "baseline")
    first = _files(repo / "reports")
    _run(repo, "reports")
    second = _files(repo / "reports")

    # The evidence of passes and failures alike is there, under names from the cell id.
    evidence = {name.split("/")[1] for name in first if name.startswith("evidence/")}
    assert "oldtool__1.2.3__kms__1.2.677.0" in evidence
    assert "ecsk__0.6.2__kms__1.2.677.0" in evidence
    assert any(name.endswith("transcript-1.json") for name in first)
    assert sorted(first) == sorted(second), set(first) ^ set(second)
    changed = sorted(name for name in first if first[name] != second[name])
    for name in changed:
        base = name.rsplit("/", 1)[-1]
        assert without_header(base, first[name]) == without_header(base, second[name]), name
    assert set(changed) <= {"matrix.json", "index.html", "matrix.md", "junit.xml"}

    # What git sees: the header-bearing files modified, nothing added or deleted.
    status = _git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert all(line.startswith(" M reports/") for line in status), status
    assert {line.removeprefix(" M reports/") for line in status} == set(changed)
    # Built-in adapters are named by their path in the package, a user's as given.
    document = json.loads(second["matrix.json"])
    files = {row["tool"]: row["adapter_file"] for row in document["rows"]}
    assert files == {
        "newtool": "newtool.toml",
        "oldtool": "oldtool.toml",
        "ecsk": "adapters/ecsk.toml",
    }
    # Nothing of this machine or this run outside the header.
    rest = b"".join(without_header(n.rsplit("/", 1)[-1], d) for n, d in second.items())
    for volatile in (str(tmp_path), "AKIAFAKE", "ecs-execute-command-", "smp-compat-run-"):
        assert volatile.encode() not in rest, volatile
