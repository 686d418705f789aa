"""A dropped websocket, end to end: the fake agent drops it once, the fake plugin resumes.

Real parts: moto extended over HTTP, the fake agent's websocket server, ``python -m
fake_plugin`` as a process. The plugin's ResumeSession goes to argv[6]: the SSM endpoint
answers it, ECS's port refuses it (``fake_plugin/resume.py`` gives the real sequence).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compat.fakeaws import FakeAWS
from tests.shared_stage import get_shared

from .conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def fake() -> FakeAWS:
    return get_shared()


@pytest.fixture
def session(fake: FakeAWS) -> Iterator[dict[str, Any]]:
    """An SSM shell session whose websocket the agent drops once."""
    instance = fake.seed_ec2_instance(region=fake.region, kms_key=False)
    fake.registry.drop_once.add(fake.credentials.access_key_id)
    try:
        answer = fake.client("ssm").start_session(Target=instance.instance_id)
    finally:
        fake.registry.drop_once.discard(fake.credentials.access_key_id)
    yield {
        "SessionId": answer["SessionId"],
        "StreamUrl": answer["StreamUrl"],
        "TokenValue": answer["TokenValue"],
        "Target": instance.instance_id,
    }


def _plugin(fake: FakeAWS, session: dict[str, Any], endpoint: str, home: Path) -> Any:
    env = {
        **fake.env(fake.credentials),
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "SMP_COMPAT_PLUGIN_RELEASE": "1.2.677.0",
    }
    response = {k: session[k] for k in ("SessionId", "StreamUrl", "TokenValue")}
    argv = [
        json.dumps(response),
        fake.region,
        "StartSession",
        "",
        json.dumps({"Target": session["Target"]}),
        endpoint,
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "fake_plugin", *argv],
        env=env,
        cwd=str(REPO),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    proc.stdin.write(b"echo resumed-ok\nexit\n")
    proc.stdin.flush()  # and kept open: EOF would end the shell session
    return proc


def _finish(proc: Any, timeout: float) -> tuple[bytes, bytes]:
    """Wait for the exit with stdin still open (EOF would end the session), then read."""
    proc.wait(timeout=timeout)
    return proc.stdout.read(), proc.stderr.read()


def _decisions(transcript: dict[str, Any]) -> list[str]:
    return [d["event"] for d in transcript["decisions"]]


def test_resume_at_the_ssm_endpoint_completes_the_session(
    fake: FakeAWS, session: dict[str, Any], tmp_path: Path
) -> None:
    sid = session["SessionId"]
    proc = _plugin(fake, session, fake.endpoint_url, tmp_path)
    try:
        out, err = _finish(proc, 30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out.decode() == (
        f"\nStarting session with SessionId: {sid}\n# echo resumed-ok\r\nresumed-ok\r\n"
        f"# exit\r\n\n\nExiting session with sessionId: {sid}.\n\n"
    )
    transcript = fake.wait_transcript(sid, timeout=5)
    assert transcript is not None
    assert transcript["outcome"] == "completed"
    events = _decisions(transcript)
    assert events.index("websocket-dropped") < events.index("resumed")
    (call,) = fake.registry.get(sid).resumes
    assert call.endpoint.endswith(fake.endpoint_url.rsplit(":", 1)[1])
    assert call.token_value is not None


def test_resume_at_the_ecs_endpoint_fails_and_the_next_keystroke_ends_it(
    fake: FakeAWS, session: dict[str, Any], tmp_path: Path
) -> None:
    """Six refused ResumeSession calls, no output; then typing fails on the dropped socket."""
    sid = session["SessionId"]
    proc = _plugin(fake, session, fake.ecs_endpoint_url, tmp_path)
    try:
        deadline = time.monotonic() + 30
        while len(fake.registry.get(sid).resumes) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
        resumes = fake.registry.get(sid).resumes
        assert [c.token_value for c in resumes] == [None] * 6
        assert all(c.error and c.error.startswith("InvalidSignatureException") for c in resumes)
        time.sleep(0.3)
        assert proc.poll() is None  # the real plugin hangs silently here
        transcript = fake.wait_transcript(sid, timeout=0.5)
        assert transcript is not None and transcript["outcome"] == "not-resumed"
        assert "resumed" not in _decisions(transcript)
        assert proc.stdin is not None
        proc.stdin.write(b"whoami\n")
        proc.stdin.flush()
        out, err = _finish(proc, 10)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    text = out.decode()
    assert text.startswith(f"\nStarting session with SessionId: {sid}\n")
    # Whether "echo" ran before the drop depends on how stdin was read (one chunk or two).
    assert text.endswith("Cannot perform start session: websocket: close sent\n")
