"""``smp-compat shim``: the fake in a sandbox bin dir, a recording wrapper, and their guards."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import sysconfig
import threading
import tomllib
from pathlib import Path

import pytest

from compat import cli
from compat.errors import UserError
from compat.launcher.shim import MARKER, MAX_SHEBANG, write_shim

ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
HEAVY = (
    "json",
    "boto3",
    "botocore",
    "websockets",
    "cryptography",
    "dataclasses",
    "typing",
    "re",
    "signal",
)


def test_cli_writes_an_executable_shim(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = tmp_path / "rec.jsonl"
    assert (
        cli.main(["shim", str(tmp_path / "bin"), "--release", "1.2.497.0", "--record", str(rec)])
        == 0
    )
    shim = tmp_path / "bin" / "session-manager-plugin"
    assert capsys.readouterr().out == f"{shim}\n"
    assert shim.stat().st_mode & stat.S_IXUSR
    shebang = f"#!/usr/bin/env -S -u LD_LIBRARY_PATH {sys.executable} -IS"
    if "LD_LIBRARY_PATH" not in os.environ and len(shebang) <= MAX_SHEBANG:
        assert shim.read_text().startswith(f"{shebang}\n{MARKER}\n")
    proc = subprocess.run([str(shim), "--version"], env=ENV, capture_output=True, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"1.2.497.0\n", b"")
    [line] = [json.loads(x) for x in rec.read_text().splitlines()]
    assert line["release"] == "1.2.497.0" and line["branch"] == "version"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--release", "1.0"], "unknown session-manager-plugin release '1.0'"),
        (["--real", "/nonexistent/smp"], "no such file"),
        (["--real", __file__], "not executable"),
        (["--real", "/bin/true", "--release", "1.2.677.0"], "--release applies to the fake"),
    ],
)
def test_bad_input_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert cli.main(["shim", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("smp-compat shim: error: ") and message in err and err.count("\n") == 1


def test_never_overwrites_a_foreign_plugin(tmp_path: Path) -> None:
    real = tmp_path / "session-manager-plugin"
    real.write_text("#!/bin/sh\necho real\n")
    with pytest.raises(UserError, match="not written by smp-compat"):
        write_shim(tmp_path)
    assert real.read_text() == "#!/bin/sh\necho real\n"


def test_refuses_a_directory_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"/usr/bin:{tmp_path}")
    with pytest.raises(UserError, match="is on your PATH"):
        write_shim(tmp_path)
    assert not (tmp_path / "session-manager-plugin").exists()


def test_package_declares_no_plugin_script() -> None:
    """The distribution installs ``smp-compat`` only, never a ``session-manager-plugin``."""
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    assert list(project["scripts"]) == ["smp-compat"]
    assert "gui-scripts" not in project


def test_long_interpreter_path_falls_back_to_sh(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 100) / "with space"
    deep.mkdir(parents=True)
    python = deep / "python3"
    python.symlink_to(sys.executable)
    shim = write_shim(tmp_path / "bin", release="1.2.54.0", python=str(python))
    assert shim.read_text().startswith("#!/bin/sh\n")
    proc = subprocess.run([str(shim), "x", "y"], env=ENV, capture_output=True, check=False)
    assert proc.returncode == 0 and proc.stdout.startswith(b"\nUnknown operation x. \n")


@pytest.mark.parametrize("long_path", [False, True])
def test_a_callers_library_path_does_not_reach_the_interpreter(
    tmp_path: Path, long_path: bool
) -> None:
    """The AWS CLI v2 bundle (PyInstaller) runs the plugin with LD_LIBRARY_PATH=<its dist>."""
    if not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        pytest.skip("this interpreter does not load a libpython, so no library path can break it")
    frozen = tmp_path / "dist"
    frozen.mkdir()
    (frozen / str(sysconfig.get_config_var("INSTSONAME"))).write_bytes(b"not a library")
    python = sys.executable
    if long_path:
        deep = tmp_path / ("d" * 120)
        deep.mkdir()
        (deep / "python3").symlink_to(sys.executable)
        python = str(deep / "python3")
    shim = write_shim(tmp_path / "bin", release="1.2.677.0", python=python)
    env = {**ENV, "LD_LIBRARY_PATH": str(frozen)}
    proc = subprocess.run([str(shim), "--version"], env=env, capture_output=True, check=False)
    assert (proc.returncode, proc.stdout) == (0, b"1.2.677.0\n"), proc.stderr


def test_fast_branches_import_nothing_heavy(tmp_path: Path) -> None:
    """install text, --version, errors and panics: no json, no session stack (-X importtime)."""
    shim = write_shim(tmp_path, release="1.2.677.0")
    for args in (
        [],
        ["--version"],
        ["x", "r", "StartSession"],
        ["{}", "r", "StartSession", "", "x"],
    ):
        proc = subprocess.run(
            [sys.executable, "-IS", "-X", "importtime", str(shim), *args],
            env=ENV,
            capture_output=True,
            check=False,
        )
        modules = {
            line.split("|")[-1].strip()
            for line in proc.stderr.decode().splitlines()
            if line.startswith("import time:")
        }
        assert not modules & set(HEAVY), (args, modules & set(HEAVY))


def test_real_wrapper_records_and_passes_through(tmp_path: Path) -> None:
    real = tmp_path / "real-plugin"
    real.write_text('#!/bin/sh\necho "real $#: $1"\necho oops >&2\nexit 3\n')
    real.chmod(0o755)
    rec = tmp_path / "rec.jsonl"
    shim = write_shim(tmp_path / "bin", real=real, record=rec)
    resp = '{"SessionId":"s","StreamUrl":"u","TokenValue":"REALTOK"}'
    proc = subprocess.run([str(shim), resp, "r"], env=ENV, capture_output=True, check=False)
    assert (proc.returncode, proc.stderr) == (3, b"oops\n")
    assert proc.stdout == f"real 2: {resp}\n".encode()
    start, line = [json.loads(x) for x in rec.read_text().splitlines()]
    assert (start["event"], line["event"]) == ("start", "end")
    assert (start["pid"], start["started_at"]) == (line["pid"], line["started_at"])
    assert line["program"] == "real" and line["real_binary"] == str(real)
    assert line["exit_code"] == 3 and line["stdout"] is None
    assert "REALTOK" not in rec.read_text()


def test_real_wrapper_dies_by_the_child_signal(tmp_path: Path) -> None:
    real = tmp_path / "real-plugin"
    real.write_text("#!/bin/sh\nkill -TERM $$\n")
    real.chmod(0o755)
    rec = tmp_path / "rec.jsonl"
    shim = write_shim(tmp_path / "bin", real=real, record=rec)
    proc = subprocess.run([str(shim)], env=ENV, capture_output=True, check=False)
    assert proc.returncode == -15
    assert json.loads(rec.read_text().splitlines()[-1])["signal"] == "SIGTERM"


def test_real_wrapper_refuses_a_shim(tmp_path: Path) -> None:
    shim = write_shim(tmp_path / "a")
    with pytest.raises(UserError, match="is an smp-compat shim"):
        write_shim(tmp_path / "b", real=shim)


def test_shim_ignores_the_callers_python_environment(tmp_path: Path) -> None:
    """-I: PYTHONPATH and the cwd cannot swap the fake for something else."""
    evil = tmp_path / "evil"
    (evil / "fake_plugin").mkdir(parents=True)
    (evil / "fake_plugin" / "__init__.py").write_text("raise SystemExit('hijacked')\n")
    shim = write_shim(tmp_path / "bin", release="1.2.677.0")
    env = {**ENV, "PYTHONPATH": str(evil)}
    proc = subprocess.run(
        [str(shim), "--version"], env=env, cwd=evil, capture_output=True, check=False
    )
    assert proc.stdout == b"1.2.677.0\n"
    assert os.environ.get("PYTHONPATH") != str(evil)


# -- hostile directories and paths (issue 13, "Low") -----------------------------------------


def test_a_symlink_planted_at_a_temp_name_is_not_followed(tmp_path: Path) -> None:
    """The old temp name was predictable: a link there received the shim and mode 755."""
    bin_dir, victim = tmp_path / "bin", tmp_path / "victim"
    bin_dir.mkdir()
    victim.write_text("precious\n")
    victim.chmod(0o600)
    planted = [
        bin_dir / f".session-manager-plugin.{os.getpid()}.tmp",
        bin_dir / ".session-manager-plugin.tmp",
    ]
    for link in planted:
        link.symlink_to(victim)
    shim = write_shim(bin_dir)
    assert victim.read_text() == "precious\n"
    assert stat.S_IMODE(victim.stat().st_mode) == 0o600
    assert MARKER in shim.read_text() and not shim.is_symlink()
    # Nothing of ours is left beside it: the private temp directory is gone.
    assert sorted(p.name for p in bin_dir.iterdir()) == sorted(
        ["session-manager-plugin", *(link.name for link in planted)]
    )


def test_a_newline_in_the_real_path_stays_a_path(tmp_path: Path) -> None:
    """A path can hold a newline; in the shim's text it must not become a line of Python."""
    real = tmp_path / "smp\nimport os; os.mkdir('pwned')\n#"
    real.write_text('#!/bin/sh\necho real-plugin "$@"\n')
    real.chmod(0o755)
    shim = write_shim(tmp_path / "bin", real=real)
    lines = shim.read_text().splitlines()
    assert not any(line.startswith("import os") for line in lines), lines
    proc = subprocess.run(
        [str(shim), "--version"], cwd=tmp_path, env=ENV, capture_output=True, check=False
    )
    assert (proc.returncode, proc.stdout) == (0, b"real-plugin --version\n"), proc.stderr
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("path", ["/usr/bin::/bin", ":/usr/bin", "/usr/bin:"])
def test_an_empty_path_entry_is_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.setenv("PATH", path)
    monkeypatch.chdir(tmp_path)
    for directory in (Path(), tmp_path):
        with pytest.raises(UserError, match="an empty PATH entry is the current directory"):
            write_shim(directory)
    assert not (tmp_path / "session-manager-plugin").exists()
    write_shim(tmp_path / "bin")  # a subdirectory is not on PATH


def test_a_fifo_at_the_plugin_name_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "session-manager-plugin")
    errors: list[BaseException] = []

    def write() -> None:
        try:
            write_shim(tmp_path)
        except UserError as exc:
            errors.append(exc)

    thread = threading.Thread(target=write, daemon=True)  # opening a FIFO would block
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "write_shim opened the FIFO and blocked"
    assert len(errors) == 1 and "not a regular file" in str(errors[0])
