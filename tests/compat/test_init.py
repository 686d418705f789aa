"""``smp-compat init``: detection, tox.ini edited as text, ownership, and a real tox run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from compat.adapter.load import load_adapter
from compat.cli import main
from compat.init.detect import detect
from tests.shared_stage import stop_shared

CMD = (
    "mytool --cluster {cluster} --task {task_id} --container {container} "
    "--profile {profile} {command}"
)
#: A minimal Python caller: boto3 ExecuteCommand, then the plugin with 7 argv (4 with LEGACY).
TOOL = """\
import argparse, json, subprocess, sys
import boto3

LEGACY = False


def main():
    p = argparse.ArgumentParser()
    for flag in ("--cluster", "--task", "--container", "--profile"):
        p.add_argument(flag)
    p.add_argument("command")
    a = p.parse_args()
    session = boto3.Session(profile_name=a.profile)
    ecs = session.client("ecs")
    task = ecs.describe_tasks(cluster=a.cluster, tasks=[a.task])["tasks"][0]
    runtime = next(c["runtimeId"] for c in task["containers"] if c["name"] == a.container)
    resp = ecs.execute_command(cluster=a.cluster, task=a.task, container=a.container,
                               interactive=True, command=a.command)
    argv = ["session-manager-plugin", json.dumps(resp["session"]), session.region_name,
            "StartSession"]
    if not LEGACY:
        argv += [a.profile or "", json.dumps({"Target": f"ecs:{a.cluster}_{a.task}_{runtime}"}),
                 session.client("ssm").meta.endpoint_url]
    return subprocess.call(argv)


if __name__ == "__main__":
    sys.exit(main())
"""
#: A flat-layout package found by setuptools' automatic discovery (no packages listed), the
#: most common shape of a small tool: any other top-level directory breaks its build.
PYPROJECT = """\
[project]
name = "mytool"
version = "0.1"
dependencies = ["boto3"]
[project.scripts]
mytool = "mytool:main"
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"
"""
USER_TOX = "# my comment\n[tox]\nenv_list = py\n\n[testenv]\n; keep me\ncommands = pytest\n"


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "mytool"
    repo.mkdir()
    (repo / "pyproject.toml").write_text(PYPROJECT)
    (repo / "mytool").mkdir()
    (repo / "mytool" / "__init__.py").write_text(TOOL)
    return repo


def _init(repo: Path, *extra: str) -> int:
    return main(["init", "--dir", str(repo), "--tool-cmd", CMD, *extra])


def test_detects_go_modules_and_python_packages(tmp_path: Path) -> None:
    go = tmp_path / "go"
    (go / "cmd" / "ecsx").mkdir(parents=True)
    (go / "go.mod").write_text("module github.com/me/ecsx/v2\n\ngo 1.22\n")
    tool = detect(go)
    assert tool is not None
    assert (tool.name, tool.language, tool.main_package) == ("ecsx", "go", "./cmd/ecsx")
    assert tool.homepage == "https://github.com/me/ecsx/v2"
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "setup.cfg").write_text(
        "[metadata]\nname = My_Tool\n[options.entry_points]\nconsole_scripts =\n"
        "    mt = my_tool.cli:main\n"
    )
    tool = detect(cfg)
    assert tool is not None and (tool.name, tool.program) == ("mt", "mt")
    poetry = tmp_path / "poetry"
    poetry.mkdir()
    (poetry / "pyproject.toml").write_text(
        '[tool.poetry]\nname = "my-tool"\nrepository = "https://example.invalid/mt"\n'
        '[tool.poetry.scripts]\nmt = "my_tool:main"\n'
    )
    tool = detect(poetry)
    assert tool is not None
    assert (tool.name, tool.program, tool.homepage) == ("mt", "mt", "https://example.invalid/mt")
    assert detect(tmp_path) is None


def test_extends_tox_ini_keeps_the_users_lines_and_is_idempotent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path)
    (repo / "tox.ini").write_text(USER_TOX)
    assert _init(repo) == 0
    text = (repo / "tox.ini").read_text()
    assert text.startswith(USER_TOX + "\n[testenv:compat]\n# Written by smp-compat init")
    # The kit is not on PyPI: the default installs it from its git URL.
    assert (
        "deps = {env:SMP_COMPAT_SPEC:smp-compat @ git+https://github.com/smp-compat/smp-compat}"
        in text
    )
    adapter = load_adapter(repo / "smp-compat" / "mytool.toml")
    assert adapter.name == "mytool"
    out = capsys.readouterr().out
    assert "wrote     tox.ini [testenv:compat]" in out and "next: tox -e compat" in out
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    assert _init(repo) == 0
    assert {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()} == before
    assert "nothing to do" in capsys.readouterr().out
    # A section the user appends after ours stays; ours is refreshed for a new --tool-cmd.
    with (repo / "tox.ini").open("a") as handle:
        handle.write("\n[testenv:docs]\ncommands = sphinx-build\n")
    assert main(["init", "--dir", str(repo), "--tool-cmd", CMD.replace("mytool", "mytool -v")]) == 0
    text = (repo / "tox.ini").read_text()
    assert text.startswith(USER_TOX) and text.endswith("[testenv:docs]\ncommands = sphinx-build\n")
    assert '"mytool", "-v"' in (repo / "smp-compat" / "mytool.toml").read_text()


def test_never_overwrites_what_the_user_changed_or_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path)
    (repo / "tox.ini").write_text("[testenv:compat]\ncommands = mine\n")
    assert _init(repo) == 1
    assert (repo / "tox.ini").read_text() == "[testenv:compat]\ncommands = mine\n"
    workflow = repo / ".github" / "workflows" / "smp-compat.yml"
    workflow.write_text(workflow.read_text() + "# tuned\n")
    capsys.readouterr()
    assert _init(repo) == 1
    out = capsys.readouterr().out
    assert "kept      tox.ini [testenv:compat]: tox.ini already has one" in out
    assert "kept      .github/workflows/smp-compat.yml GitHub workflow: changed since" in out
    assert workflow.read_text().endswith("# tuned\n")


#: Other common shapes of a tool's repository: path -> text (beside the flat setuptools one).
LAYOUTS = {
    "src-hatch": {
        "pyproject.toml": '[project]\nname = "mytool"\nversion = "0.1"\n'
        '[project.scripts]\nmytool = "mytool:main"\n[build-system]\n'
        'requires = ["hatchling"]\nbuild-backend = "hatchling.build"\n',
        "src/mytool/__init__.py": "def main() -> None: ...\n",
    },
    "poetry": {
        "pyproject.toml": '[tool.poetry]\nname = "mytool"\nversion = "0.1"\n'
        'description = ""\nauthors = ["me <me@example.invalid>"]\n'
        '[tool.poetry.scripts]\nmytool = "mytool:main"\n[build-system]\n'
        'requires = ["poetry-core"]\nbuild-backend = "poetry.core.masonry.api"\n',
        "mytool/__init__.py": "def main() -> None: ...\n",
    },
    "go": {
        "go.mod": "module github.com/me/mytool\n\ngo 1.21\n",
        "main.go": "package main\n\nfunc main() {}\n",
    },
}


def _layout(tmp_path: Path, layout: str) -> Path:
    if layout == "flat-setuptools":
        return _repo(tmp_path)
    repo = tmp_path / "mytool"
    for rel, text in LAYOUTS[layout].items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    return repo


def _build(repo: Path, tmp_path: Path) -> set[str]:
    """Build the tool with its own build system, as tox does: what it ships (top-level names)."""
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}
    if (repo / "go.mod").is_file():
        go = shutil.which("go")
        if go is None:
            pytest.skip("go is not installed")
        env["GOPATH"] = str(tmp_path / "gopath")  # the build cache stays shared: std is big
        run = subprocess.run(
            [go, "list", "./..."], cwd=repo, env=env, capture_output=True, text=True, check=False
        )
        assert run.returncode == 0, run.stderr
        subprocess.run([go, "build", "./..."], cwd=repo, env=env, check=True)
        return set(run.stdout.split())
    backend = tomllib.loads((repo / "pyproject.toml").read_text())["build-system"]["build-backend"]
    pytest.importorskip(backend, reason=f"the build backend {backend} is not installed")
    # PEP 517's build_wheel hook, called as a frontend does (here without an isolated env).
    hook = (
        "import importlib, sys; "
        "print(importlib.import_module(sys.argv[1]).build_wheel(sys.argv[2]))"
    )
    dist = tmp_path / "dist"
    run = subprocess.run(
        [sys.executable, "-c", hook, backend, str(dist)],
        cwd=repo, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    with zipfile.ZipFile(dist / run.stdout.split()[-1]) as wheel:
        return {name.split("/")[0] for name in wheel.namelist()}


@pytest.mark.parametrize(
    "layout",
    [
        "flat-setuptools",
        "src-hatch",
        "poetry",
        pytest.param("go", marks=pytest.mark.slow),  # a cold build cache compiles std
    ],
)
def test_the_tool_still_builds_after_init_and_a_run(layout: str, tmp_path: Path) -> None:
    """Nothing init or `tox -e compat` writes is taken for part of the tool (issue: a flat
    layout's automatic discovery refused `adapters/` and `reports/` as extra packages)."""
    repo = _layout(tmp_path, layout)
    assert _init(repo) == 0
    # Where `tox -e compat` writes the reports, as the tox section says.
    found = re.search(r"--out \{toxinidir\}\{/\}(\S+)", (repo / "tox.ini").read_text())
    assert found is not None
    reports = repo / found[1].replace("{/}", "/")
    (reports / "evidence" / "mytool-dev-kms").mkdir(parents=True)
    (reports / "matrix.json").write_text("{}")
    (reports / "evidence" / "mytool-dev-kms" / "tool.stdout").write_text("")
    shipped = _build(repo, tmp_path)
    if layout == "go":
        assert shipped == {"github.com/me/mytool"}
    else:
        assert {n for n in shipped if not n.endswith(".dist-info")} == {"mytool"}, shipped


def test_the_adapter_an_earlier_init_wrote_at_the_top_level_moves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path)
    assert _init(repo, "--adapter-path", "adapters/{name}.toml") == 0
    old = repo / "adapters" / "mytool.toml"
    text = old.read_text()
    capsys.readouterr()
    assert _init(repo) == 0
    assert "removed   adapters/mytool.toml old adapter: init now uses smp-compat/mytool.toml" in (
        capsys.readouterr().out
    )
    assert not (repo / "adapters").exists()
    assert (repo / "smp-compat" / "mytool.toml").read_text() == text
    # One the user changed stays, named, until they move it.
    old.parent.mkdir()
    old.write_text(text + "# mine\n")
    assert _init(repo) == 1
    assert "kept      adapters/mytool.toml old adapter: changed since" in capsys.readouterr().out
    assert old.read_text().endswith("# mine\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tool-cmd", "mytool {sesion}"], "unknown placeholder {sesion}; did you mean"),
        (["--tool-cmd", "mytool 'unclosed"], '--tool-cmd "mytool \'unclosed": No closing'),
        (["--adapter-path", "../x.toml"], "expected a path inside the repository"),
    ],
    ids=["placeholder", "quoting", "path"],
)
def test_bad_input_is_one_line_and_writes_nothing(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path)
    assert main(["init", "--dir", str(repo), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("smp-compat init: error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert not (repo / "tox.ini").exists()


def test_an_unknown_repository_needs_a_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--dir", str(tmp_path)]) == 2
    assert "no go.mod, pyproject.toml or setup.cfg names a tool; pass --name" in (
        capsys.readouterr().err
    )


def test_the_workflow_follows_the_github_workflows_schema(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    jsonschema = pytest.importorskip("jsonschema")
    from tests.compat.report.test_report_actions import _vendored  # noqa: PLC0415

    repo = _repo(tmp_path)
    assert _init(repo) == 0
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "smp-compat.yml").read_text())
    workflow["on"] = workflow.pop(True)
    jsonschema.validate(workflow, _vendored("github-workflows"))
    given = workflow["jobs"]["compat"]["with"]
    assert given["adapters"] == "smp-compat/mytool.toml"
    assert given["baseline"] == given["out"] + "/matrix.json" == "smp-compat/reports/matrix.json"
    # Every input init passes is one the reusable workflow declares.
    root = Path(__file__).resolve().parents[2]
    reusable = yaml.safe_load((root / ".github" / "workflows" / "compat.yml").read_text())
    assert set(given) <= set(reusable[True]["workflow_call"]["inputs"])


@pytest.mark.slow
@pytest.mark.integration
def test_the_generated_adapter_runs_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stop_shared()  # `run` starts its own stage; moto's state is one per process
    repo = _repo(tmp_path)
    assert _init(repo) == 0
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    results = {}
    for legacy in (False, True):
        script = bin_dir / "mytool"
        script.write_text(
            f"#!{sys.executable}\n" + TOOL.replace("LEGACY = False", f"LEGACY = {legacy}")
        )
        script.chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        out = tmp_path / f"reports-{legacy}"
        code = main([
            "run", "--adapters", str(repo / "smp-compat" / "mytool.toml"), "--adapter", "mytool",
            "--scenario", "shell", "--scenario", "kms", "--release", "1.2.677.0",
            "--out", str(out), "--jobs", "2",
        ])  # fmt: skip
        cells = json.loads((out / "matrix.json").read_text())["cells"]
        results[legacy] = (code, {c["scenario"]: (c["outcome"], c["reason"]) for c in cells})
    assert results[False] == (0, {"shell": ("pass", None), "kms": ("pass", None)})
    assert results[True] == (1, {"shell": ("pass", None), "kms": ("fail", "legacy-argv")})


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tox") is None, reason="tox is not installed")
def test_tox_e_compat_in_a_fresh_repository(tmp_path: Path) -> None:
    """The acceptance in a flat-layout tool: init; `tox -e compat` fails kms with 4 argv,
    naming legacy-argv and its fix; fixed, it passes (the second build beside the first run's
    reports); `diff` reports the fix (exit 0) and, reversed, the regression (exit 1)."""
    repo = _repo(tmp_path)
    (repo / "mytool" / "__init__.py").write_text(TOOL.replace("LEGACY = False", "LEGACY = True"))
    assert (
        subprocess.run(
            [sys.executable, "-m", "compat", "init", "--tool-cmd", CMD], cwd=repo, check=False
        ).returncode
        == 0
    )
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "SMP_COMPAT_SPEC": str(root),
        # Deps already installed here are reused: the test stays offline-ish and quick.
        "VIRTUALENV_SYSTEM_SITE_PACKAGES": "1",
    }
    for name in [k for k in env if k.startswith(("TOX_", "PYTEST_"))]:
        del env[name]

    def tox(*posargs: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tox", "-e", "compat", "--", *posargs], cwd=repo, env=env,
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip

    reports = repo / "smp-compat" / "reports"
    done = tox("--scenario", "shell", "--scenario", "kms")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    assert "mytool/dev/kms/1.2.677.0: fail legacy-argv" in done.stdout
    assert "Pass profile, target and endpoint as argv[4..6]" in done.stdout
    cells = json.loads((reports / "matrix.json").read_text())["cells"]
    assert {(c["scenario"], c["outcome"], c["reason"]) for c in cells} == {
        ("shell", "pass", None),
        ("kms", "fail", "legacy-argv"),
    }
    before = tmp_path / "before.json"
    shutil.copy(reports / "matrix.json", before)
    (repo / "mytool" / "__init__.py").write_text(TOOL)
    done = tox()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    summary = json.loads((reports / "matrix.json").read_text())["summary"]
    # Five scenarios at three releases and reconnect at one pass; port-forward is n/a (the
    # tool has no port-forward command).
    assert summary == {"pass": 16, "fail": 0, "error": 0, "skipped": 0, "n/a": 3}
    assert (reports / "junit.xml").is_file() and (reports / "badges" / "mytool.json").is_file()

    def diff(base: Path, head: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "compat", "diff", str(base), str(head)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    fixed = diff(before, reports / "matrix.json")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "Fixes (failed, now passes)" in fixed.stdout and "Regressions" not in fixed.stdout
    regressed = diff(reports / "matrix.json", before)
    assert regressed.returncode == 1, regressed.stdout + regressed.stderr
    assert "Regressions (passed, now fails)" in regressed.stdout


@pytest.mark.parametrize(
    ("planted", "target_of"),
    [
        ("tox.ini", lambda outside: outside / "bashrc"),
        ("smp-compat", lambda outside: outside),
        (".github", lambda outside: outside),
    ],
    ids=["file", "adapter-dir", "workflow-dir"],
)
def test_a_planted_symlink_out_of_the_repository_is_refused_and_nothing_written(
    planted: str, target_of: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The attack: a repository that ships a symlink where init writes, pointing at a file
    or directory of the user's outside it (``tox.ini`` -> ``~/.bashrc``)."""
    repo = _repo(tmp_path)
    outside = tmp_path / "home"
    outside.mkdir()
    (outside / "bashrc").write_text("# the user's own\n")
    assert callable(target_of)
    (repo / planted).symlink_to(target_of(outside))
    assert _init(repo) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"smp-compat init: error: {planted}") and "symlink" in err, err
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in outside.iterdir()) == ["bashrc"]
    assert (outside / "bashrc").read_text() == "# the user's own\n"
    assert sorted(p.name for p in repo.iterdir()) == sorted(["mytool", "pyproject.toml", planted])


def test_a_symlink_that_stays_inside_the_repository_is_fine(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "ci").mkdir()
    (repo / ".github").symlink_to("ci")
    assert _init(repo) == 0
    assert (repo / "ci" / "workflows" / "smp-compat.yml").is_file()


@pytest.mark.parametrize(
    "module",
    [
        "example.com/x{/}..{/}..{/}..{/}pwned",  # tox's {/}: go build -o outside the env
        "example.com/{env:HOME}",
        "example.com/it's",  # an unbalanced quote in tox's shlex-split commands
    ],
    ids=["tox-separator", "tox-env", "quote"],
)
def test_a_go_program_name_that_would_rewrite_tox_ini_is_refused(
    module: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The attack: a go.mod whose module path's last element is tox syntax, which init would
    paste into ``go build -o {envtmpdir}{/}<program>`` and ``set_env``; ``--name`` names the
    adapter, not the program, so it must not get the name through."""
    repo = tmp_path / "gotool"
    repo.mkdir()
    (repo / "go.mod").write_text(f"module {module}\n\ngo 1.22\n")
    (repo / "main.go").write_text("package main\n\nfunc main() {}\n")
    assert _init(repo, "--name", "gotool") == 2
    err = capsys.readouterr().err
    assert "is not a Go module path element" in err and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in repo.iterdir()) == ["go.mod", "main.go"]
