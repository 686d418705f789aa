"""The invocation record: schema, redaction, atomic appends, kills (README "The fake plugin")."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from plugin_helpers import clean_env, run_inprocess

from compat.launcher.shim import write_shim
from fake_plugin import program, record
from fake_plugin.console import Console

ENV = "AWS_SSM_START_SESSION_RESPONSE"
SCHEMA_KEYS = {
    "schema", "program", "release", "argv", "argc", "branch", "parsed", "stdin_isatty", "cwd",
    "env", "pid", "stdout", "stdout_truncated", "stderr", "stderr_truncated", "exit_code",
    "signal", "started_at", "ended_at", "duration_s", "event",
}  # fmt: skip


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_schema_and_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = tmp_path / "rec.jsonl"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "SECRETKEY123")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "SESSIONTOKEN456")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("HTTPS_PROXY", "http://user:pw@127.0.0.1:3128")
    resp = '{"SessionId":"s1","StreamUrl":"u","TokenValue":"TOK789"}'
    code, _ = run_inprocess([resp, "us-east-1", "Nope", "prof"], "1.2.677.0", record_path=str(rec))
    assert code == 0
    [line] = _lines(rec)
    assert set(line) == SCHEMA_KEYS
    assert line["schema"] == record.SCHEMA_VERSION
    assert line["branch"] == "invalid-operation"
    assert line["stdout"] == "Invalid Operation" and line["exit_code"] == 0
    assert line["parsed"]["region"] == "us-east-1" and line["parsed"]["profile"] == "prof"
    assert line["parsed"]["legacy_cli"] is False
    assert line["argv"][1] == '{"SessionId":"s1","StreamUrl":"u","TokenValue":"<redacted>"}'
    assert line["env"]["AWS_SECRET_ACCESS_KEY"] == "<redacted>"
    assert line["env"]["AWS_SESSION_TOKEN"] == "<redacted>"
    assert line["env"]["AWS_REGION"] == "eu-west-1"
    assert line["env"]["HTTPS_PROXY"] == "http://<redacted>@127.0.0.1:3128"
    text = rec.read_text()
    for secret in ("SECRETKEY123", "SESSIONTOKEN456", "TOK789", "pw@"):
        assert secret not in text


def test_env_var_response_is_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = tmp_path / "rec.jsonl"
    monkeypatch.setenv(ENV, '{"SessionId":"s1","StreamUrl":"u","TokenValue":"ENVTOK"}')
    monkeypatch.setattr(program, "_start_session", lambda *a: 0)
    code, console = run_inprocess(
        [ENV, "r", "StartSession", "", '{"Target":"t"}'], "1.2.677.0", record_path=str(rec)
    )
    assert code == 0 and console.stdout_text == "\nStarting session with SessionId: s1\n"
    start, line = _lines(rec)  # a session start writes its start line before it dials
    assert start["event"] == "start" and start["parsed"] == line["parsed"]
    assert line["branch"] == "start-session"
    assert line["parsed"]["env_var_mode"] is True and line["parsed"]["env_var_set"] is True
    assert line["parsed"]["target"] == "t"
    assert line["env"][ENV] == "<redacted>"
    assert "ENVTOK" not in rec.read_text()


def test_unknown_release_is_one_line(
    tmp_path: Path, plugin_env: dict[str, str], shims: dict
) -> None:
    rec = tmp_path / "rec.jsonl"
    env = clean_env(plugin_env, {"SMP_COMPAT_PLUGIN_RELEASE": "9.9", "SMP_COMPAT_RECORD": str(rec)})
    script = str(shims["1.2.677.0"]).replace("1.2.677.0/", "x/")
    Path(script).parent.mkdir()
    write_shim(Path(script).parent)  # release from the environment
    proc = subprocess.run([script, "--version"], env=env, capture_output=True, check=False)
    assert proc.returncode == 2 and proc.stdout == b""
    assert (
        proc.stderr.count(b"\n") == 1
        and b"unknown session-manager-plugin release '9.9'" in proc.stderr
    )
    assert _lines(rec)[0]["branch"] == "unknown-release"


def test_concurrent_starts_never_interleave(
    tmp_path: Path, plugin_env: dict[str, str], shims: dict
) -> None:
    rec = tmp_path / "rec.jsonl"
    env = clean_env(plugin_env, {"SMP_COMPAT_RECORD": str(rec)})
    big = "x" * 100_000  # far above PIPE_BUF: atomicity comes from flock + one write
    procs = [
        subprocess.Popen(
            [str(shims["1.2.677.0"]), f"{big}{i}", "r"], env=env, stdout=subprocess.DEVNULL
        )
        for i in range(24)
    ]
    assert all(p.wait(60) == 0 for p in procs)
    lines = _lines(rec)
    assert len(lines) == 24
    assert sorted(line["argv"][1][-2:].lstrip("x") for line in lines) == sorted(
        str(i) for i in range(24)
    )


STUB = (
    "import sys, time, types\n"
    "m = types.ModuleType('fake_plugin.session')\n"
    "def run(invocation, release, console):\n"
    "    console.out('session output\\n')\n"
    "    time.sleep(60)\n"
    "    return 0\n"
    "m.run = run\n"
    "sys.modules['fake_plugin.session'] = m\n"
    "sys.argv = sys.argv[1:]\n"
    "from fake_plugin.program import run as main\n"
    "main()\n"
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_killed_during_session_still_recorded(
    tmp_path: Path, plugin_env: dict[str, str], sig: int
) -> None:
    rec = tmp_path / "rec.jsonl"
    env = clean_env(
        plugin_env,
        {"SMP_COMPAT_RECORD": str(rec), "PYTHONPATH": str(Path(program.__file__).parent.parent)},
    )
    resp = '{"SessionId":"s9","StreamUrl":"ws://127.0.0.1:9/x","TokenValue":"KILLTOK"}'
    proc = subprocess.Popen(
        [sys.executable, "-c", STUB, "session-manager-plugin", resp, "r", "StartSession"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    out = b""
    deadline = time.monotonic() + 20
    while b"session output\n" not in out and time.monotonic() < deadline:
        out += os.read(proc.stdout.fileno(), 4096)
    proc.send_signal(sig)
    proc.communicate(timeout=20)
    assert proc.returncode == -sig  # dies by the signal, as the Go runtime does
    start, line = _lines(rec)
    assert (start["event"], line["event"]) == ("start", "end")
    assert (start["pid"], start["started_at"]) == (line["pid"], line["started_at"])
    assert line["exit_code"] is None and line["signal"] == signal.Signals(sig).name
    assert line["stdout"] == "\nStarting session with SessionId: s9\nsession output\n"
    assert line["branch"] == "start-session-legacy"
    assert "KILLTOK" not in rec.read_text()


# --- redaction: a token never reaches the record, whatever the argv -----------------------

TOKEN = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=10, max_size=24
)
TOKEN_KEYS = st.sampled_from(
    ["TokenValue", "tokenValue", "TOKENVALUE", "tokenvalue", "To\u212aenValue",
     "\\u0054okenValue", "Token\\u0056alue", "token"]
)  # fmt: skip
OTHER = st.dictionaries(
    st.sampled_from(["SessionId", "StreamUrl", "x", "sessionId"]), st.text(max_size=8), max_size=3
)


@st.composite
def responses(draw: st.DrawFn) -> tuple[str, str]:
    token = draw(TOKEN)
    key = draw(TOKEN_KEYS)
    members = [f'"{k}":{json.dumps(v)}' for k, v in draw(OTHER).items()]
    members.insert(
        draw(st.integers(0, len(members))), f'"{key}"{draw(st.sampled_from(["", " "]))}:"{token}"'
    )
    text = "{" + ",".join(members) + "}"
    end = text.index(token) + len(token)
    mutation = draw(st.sampled_from(["none", "truncate", "junk-after", "junk-before", "no-close"]))
    if mutation == "truncate":
        text = text[: draw(st.integers(end, len(text)))]
    elif mutation == "junk-after":
        text += draw(st.text(max_size=5))
    elif mutation == "junk-before":
        text = draw(st.text(max_size=5)) + text
    elif mutation == "no-close":
        text = text[:-1]
    return token, text


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    case=responses(),
    argc=st.integers(1, 7),
    position=st.integers(1, 6),
    via_env=st.booleans(),
    others=st.lists(
        st.sampled_from(["us-east-1", "StartSession", "", '{"Target":"i-1"}', "p"]),
        min_size=6,
        max_size=6,
    ),
    release=st.sampled_from(["1.2.234.0", "1.2.677.0"]),
)
def test_token_never_in_record(
    case: tuple[str, str], argc: int, position: int, via_env: bool, others: list[str], release: str,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    token, response = case
    monkeypatch.setattr(program, "_start_session", lambda *a: 0)
    args = others[:argc]
    if via_env:
        assume("\x00" not in response)  # no environment value can hold a NUL
        os.environ[ENV] = response
        args[0] = ENV
    else:
        args[min(position, argc) - 1] = response
    rec = tmp_path / "rec.jsonl"
    rec.unlink(missing_ok=True)
    try:
        program.main(
            ["session-manager-plugin", *args],
            release=release,
            record_path=str(rec),
            console=Console(echo=False),
        )
    finally:
        os.environ.pop(ENV, None)
    text = rec.read_text()
    assert token not in text
    for line in _lines(rec):  # the start line of a session start too
        assert all(token not in s for s in _strings(line))
