"""Every row of docs/plugin.md §1.1, per release, byte for byte against golden files.

The goldens (``golden/<release>.json``) are written from the spec's texts by
``golden/make_golden.py``, which never imports the fake.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from plugin_helpers import (
    MAIN_RELEASES,
    clean_env,
    golden_rows,
    run_inprocess,
    run_until_starting,
)

from fake_plugin import argv as contract

ALL_ROWS = golden_rows()


def _ids(rows: list[tuple[str, dict[str, object]]]) -> list[str]:
    return [f"{release}-{row['id']}" for release, row in rows]


@pytest.fixture
def row_env(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def apply(env: dict[str, str]) -> None:
        for name in list(os.environ):
            if name.startswith(("AWS_SSM_START_SESSION_RESPONSE", "SMP_COMPAT_")):
                monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)

    return apply


def test_main_releases_have_goldens() -> None:
    assert {r for r, _ in ALL_ROWS} >= set(MAIN_RELEASES)


@pytest.mark.parametrize(("release", "row"), ALL_ROWS, ids=_ids(ALL_ROWS))
def test_row_in_process(release: str, row: dict, row_env) -> None:  # type: ignore[no-untyped-def]
    """Exit code, stdout and stderr head of every row that ends without a session."""
    row_env(row["env"])
    if "stdout_prefix" in row:
        outcome = contract.validate(
            [b"session-manager-plugin", *(a.encode() for a in row["args"])],
            release,
            os.environb,
        )
        assert outcome.branch == row["branch"]
        assert outcome.parsed is not None and outcome.parsed.session_id == "sess-123"
        return
    code, console = run_inprocess(row["args"], release)
    assert code == row["exit"]
    assert console.stdout_text == row["stdout"]
    assert console.stderr_text.startswith(row["stderr_head"])
    if row["stderr_head"]:
        assert f"/sessionmanagerplugin/session/{row['frame']} +0x" in console.stderr_text
        assert console.stderr_text.endswith("main.go:26 +0x45\n")


def test_env_var_is_unset_after_reading(row_env) -> None:  # type: ignore[no-untyped-def]
    """docs/plugin.md §1.2: the plugin ``os.Unsetenv``s the variable in its own process."""
    row_env({"AWS_SSM_START_SESSION_RESPONSE": "xx"})
    run_inprocess(["AWS_SSM_START_SESSION_RESPONSE", "r", "StartSession"], "1.2.677.0")
    assert "AWS_SSM_START_SESSION_RESPONSE" not in os.environ
    row_env({"AWS_SSM_START_SESSION_RESPONSE": "xx"})
    run_inprocess(["AWS_SSM_START_SESSION_RESPONSE", "r", "StartSession"], "1.2.497.0")
    assert os.environ["AWS_SSM_START_SESSION_RESPONSE"] == "xx"  # older: a literal, untouched


SUBPROCESS_ROWS = golden_rows(("1.2.234.0", "1.2.677.0"))
START_ROWS = [(r, row) for r, row in ALL_ROWS if "stdout_prefix" in row]


@pytest.mark.parametrize(("release", "row"), SUBPROCESS_ROWS, ids=_ids(SUBPROCESS_ROWS))
def test_row_as_process(release: str, row: dict, shims: dict, plugin_env) -> None:  # type: ignore[no-untyped-def]
    """The same rows through the shim: real fds, real exit status, raw bytes."""
    env = clean_env(plugin_env, row["env"])
    cmd = [str(shims[release]), *row["args"]]
    if "stdout_prefix" in row:
        out = run_until_starting(cmd, env)
        assert out.startswith(row["stdout_prefix"].encode())
        return
    proc = subprocess.run(
        cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False
    )
    assert proc.returncode == row["exit"]
    assert proc.stdout == row["stdout"].encode()
    assert proc.stderr.startswith(row["stderr_head"].encode())
    assert b"Traceback" not in proc.stderr


@pytest.mark.parametrize(("release", "row"), START_ROWS, ids=_ids(START_ROWS))
def test_start_rows_print_starting(release: str, row: dict, shims: dict, plugin_env) -> None:  # type: ignore[no-untyped-def]
    """A valid StartSession prints ``⏎Starting session with SessionId: <sid>⏎`` first."""
    env = clean_env(plugin_env, row["env"])
    out = run_until_starting([str(shims[release]), *row["args"]], env)
    assert out.startswith(row["stdout_prefix"].encode())


def test_python_dash_m(plugin_env, python: str) -> None:  # type: ignore[no-untyped-def]
    """``python -m fake_plugin`` is the same program."""
    env = clean_env(plugin_env, {"SMP_COMPAT_PLUGIN_RELEASE": "1.2.536.0"})
    proc = subprocess.run(
        [python, "-m", "fake_plugin", "--version"],
        env=env,
        capture_output=True,
        cwd="/work/main",
        check=False,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"1.2.536.0\n", b"")
