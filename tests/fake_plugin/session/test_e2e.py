"""End to end: ``python -m fake_plugin`` against the fake agent, moto and moto's proxy.

Expected stdout comes from docs/plugin.md §3.7 (observed sequences) and §2.2 (error blocks).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import clean_env, run_plugin

pytestmark = pytest.mark.integration

TARGET = "ecs:c1_task1_rt1"
NEW = (
    "Installed version of CLI does not support Session Manager encryption feature. "
    "Please upgrade to the latest version of your CLI (e.g., AWS CLI)."
)
OLD = (
    "Installed version of AWS CLI does not support Session Manager encryption feature. "
    "Please upgrade to latest version of AWS CLI"
)


def _stage(moto_server: str, transcripts: Path, **agent_options: float) -> Iterator[object]:
    try:
        from compat.agent.server import FakeAgent  # noqa: PLC0415
        from compat.agent.sessions import SessionRegistry  # noqa: PLC0415
    except ImportError as exc:
        pytest.skip(f"the fake agent (compat/agent/server.py) is not available: {exc}")
    registry = SessionRegistry()
    agent = FakeAgent(registry, moto_server, transcripts, **agent_options)
    agent.start()
    registry.agent_url = agent.url
    try:
        yield registry, agent
    finally:
        agent.stop()


@pytest.fixture(scope="module")
def stage(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    yield from _stage(moto_server, tmp_path_factory.mktemp("transcripts"))


@pytest.fixture(scope="module")
def slow_shell_stage(
    moto_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[object]:
    """An agent whose pty opens 0.5 s after HandshakeComplete: Size and keystrokes both
    arrive while it is not ready, whichever of the plugin's threads sends first."""
    yield from _stage(moto_server, tmp_path_factory.mktemp("transcripts"), shell_start_s=0.5)


def _start(
    stage: object,
    sid: str,
    key: str | None,
    argv_tail: list[str],
    env: dict[str, str],
    *,
    release: str = "1.2.677.0",
    stdin: object = subprocess.DEVNULL,
    command: str = "whoami",
) -> tuple[subprocess.CompletedProcess[bytes], float]:
    from compat.agent.sessions import SessionSpec  # noqa: PLC0415

    registry, _agent = stage  # type: ignore[misc]
    registry.add(
        SessionSpec(
            session_id=sid,
            token_value=f"tok-{sid}",
            kind="ecs",
            target=TARGET,
            region="us-east-1",
            account_id="123456789012",
            session_type="Standard_Stream",
            kms_key_id=key,
            command=command,
        )
    )
    response = json.dumps(
        {"SessionId": sid, "StreamUrl": registry.stream_url(sid), "TokenValue": f"tok-{sid}"}
    )
    env = {**env, "SMP_COMPAT_PLUGIN_RELEASE": release}
    began = time.monotonic()
    result = run_plugin([response, "us-east-1", "StartSession", *argv_tail], env, stdin=stdin)
    return result, time.monotonic() - began


@pytest.fixture
def kms_env(aws_proxy: tuple[str, str], tmp_path: Path) -> dict[str, str]:
    proxy, ca = aws_proxy
    return clean_env(
        tmp_path,
        HTTPS_PROXY=proxy,
        AWS_CA_BUNDLE=ca,
        AWS_ACCESS_KEY_ID="AKIAFAKE",
        AWS_SECRET_ACCESS_KEY="fake",
    )


def _seven(endpoint: str = "http://127.0.0.1:9", target: str = TARGET) -> list[str]:
    return ["", json.dumps({"Target": target}), endpoint]


def _error_block(sid: str, text: str) -> str:
    return (
        f"\nStarting session with SessionId: {sid}\n\n\nSessionId: {sid} : \n"
        "----------ERROR-------\nEncountered error while initiating handshake. "
        f"KMSEncryption failed on client with status 2 error: Failed to process action "
        f"KMSEncryption: {text}\n\n"
    )


def test_plain_shell(stage: object, tmp_path: Path) -> None:
    """§3.7 unencrypted shell: output verbatim, then the channel closes (exit 0)."""
    with subprocess.Popen(["sleep", "30"], stdout=subprocess.PIPE) as keeper:
        result, _ = _start(
            stage, "sess-plain", None, _seven(), clean_env(tmp_path), stdin=keeper.stdout
        )
        keeper.kill()
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == (
        "\nStarting session with SessionId: sess-plain\nroot\r\n\n\n"
        "Exiting session with sessionId: sess-plain.\n\n"
    )


def test_plain_shell_stdin_eof(stage: object, tmp_path: Path) -> None:
    """§1 "Shell session with stdin at EOF": Cannot perform start session: EOF (exit 0)."""
    result, _ = _start(stage, "sess-eof", None, _seven(), clean_env(tmp_path))
    assert result.returncode == 0 and result.stderr == b""
    assert result.stdout.decode().startswith("\nStarting session with SessionId: sess-eof\n")
    out = result.stdout.decode()
    assert out.endswith(("Cannot perform start session: EOF\n", "sess-eof.\n\n"))


def test_encrypted_shell(stage: object, kms_env: dict[str, str], kms_key: str) -> None:
    """§3.7 encrypted shell: KMS through the proxy, challenge, CustomerMessage, output."""
    with subprocess.Popen(["sleep", "30"], stdout=subprocess.PIPE) as keeper:
        result, took = _start(stage, "sess-enc", kms_key, _seven(), kms_env, stdin=keeper.stdout)
        keeper.kill()
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == (
        "\nStarting session with SessionId: sess-enc\n"
        "This session is encrypted using AWS KMS.\nroot\r\n\n\n"
        "Exiting session with sessionId: sess-enc.\n\n"
    )
    print(f"encrypted session end to end: {took:.2f} s")


def test_keystrokes_before_the_shell_is_ready(
    slow_shell_stage: object, kms_env: dict[str, str], kms_key: str
) -> None:
    """Issue 9: input typed at once, before the Size and before the agent's pty is open, is
    refused unacked; the plugin's resend scheduler delivers it and the session completes."""
    _registry, agent = slow_shell_stage  # type: ignore[misc]
    typed = ["sh", "-c", "printf 'whoami\\rexit\\r'; exec sleep 30"]
    with subprocess.Popen(typed, stdout=subprocess.PIPE) as keeper:
        result, took = _start(
            slow_shell_stage, "sess-early", kms_key, _seven(), kms_env,
            stdin=keeper.stdout, command="/bin/sh",
        )  # fmt: skip
        keeper.kill()
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == (
        "\nStarting session with SessionId: sess-early\n"
        "This session is encrypted using AWS KMS.\n# whoami\r\nroot\r\n# exit\r\n\n\n"
        "Exiting session with sessionId: sess-early.\n\n"
    )
    transcript = agent.wait_closed("sess-early", 5)
    assert transcript is not None and transcript["outcome"] == "completed"
    events = [d["event"] for d in transcript["decisions"]]
    assert "handler-not-ready" in events, events
    resent = [m for m in transcript["messages"] if m["dir"] == "in" and m.get("seq") is not None]
    assert len(resent) > len({(m["seq"], m["message_type"]) for m in resent})  # resends seen
    print(f"keystrokes before the shell: {took:.2f} s")


@pytest.mark.parametrize(("release", "text"), [("1.2.234.0", OLD), ("1.2.677.0", NEW)])
def test_legacy_argv_against_kms(
    stage: object, kms_env: dict[str, str], kms_key: str, release: str, text: str
) -> None:
    """§2.1/§2.2: the 4-element argv fails KMS with the release's own text, exit 0."""
    sid = f"sess-legacy-{release}"
    result, _ = _start(stage, sid, kms_key, [], kms_env, release=release)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == _error_block(sid, text)


def test_wrong_target(stage: object, kms_env: dict[str, str], kms_key: str) -> None:
    """§2.3: a wrong Target makes the agent's KMS Decrypt fail (InvalidCiphertextException)."""
    result, _ = _start(stage, "sess-wrong", kms_key, _seven(target="i-0wrong"), kms_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert out.startswith(
        "\nStarting session with SessionId: sess-wrong\n\n\nSessionId: sess-wrong : "
    )
    assert "Error when decrypting data key InvalidCiphertextException" in out


def test_missing_profile(stage: object, kms_env: dict[str, str], kms_key: str) -> None:
    """§1.3 observed: a profile that does not exist gives NoCredentialProviders."""
    argv = ["nosuch", json.dumps({"Target": TARGET}), "http://127.0.0.1:9"]
    result, _ = _start(stage, "sess-noprof", kms_key, argv, kms_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == _error_block(
        "sess-noprof",
        "Error calling KMS GenerateDataKey API: NoCredentialProviders: no valid providers in "
        "chain. Deprecated.\n\tFor verbose messaging see aws.Config.CredentialsChainVerboseErrors",
    )


@pytest.mark.slow
def test_unreachable_stream_url_hangs(tmp_path: Path) -> None:
    """§1: after 5 failed dials the plugin waits forever, printing nothing more."""
    response = json.dumps(
        {"SessionId": "sess-hang", "StreamUrl": "ws://127.0.0.1:9/x", "TokenValue": "t"}
    )
    proc = subprocess.Popen(
        [__import__("sys").executable, "-m", "fake_plugin", response, "us-east-1", "StartSession"],
        env=clean_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=str(Path(__file__).resolve().parents[3]),
    )
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(timeout=7)
    proc.kill()
    out, err = proc.communicate()
    assert out == b"\nStarting session with SessionId: sess-hang\n" and err == b""
