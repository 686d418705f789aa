"""The fake agent over a real websocket on 127.0.0.1, with moto's KMS (docs/plugin.md §2-§3)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from compat.agent.server import AgentError, FakeAgent
from fake_plugin.crypto import SessionCipher
from fake_plugin.handshake import (
    HandshakeResponse,
    ProcessedAction,
    challenge_payload,
    kms_action_result,
    unb64,
)
from fake_plugin.wire import FLAGS_SYN, Flag, PayloadType, flag_payload

KEY_ALIAS = "alias/smp-compat-agent-test"  # created by conftest.moto_kms
TARGET = "ecs:demo_0123456789abcdef0123456789abcdef_0123456789abcdef-1111111111"

pytestmark = pytest.mark.integration

ERROR = "\n----------ERROR-------\nEncountered error while initiating handshake. "
LEGACY_OLD = (
    "Installed version of AWS CLI does not support Session Manager encryption feature. "
    "Please upgrade to latest version of AWS CLI"
)
LEGACY_NEW = (
    "Installed version of CLI does not support Session Manager encryption feature. "
    "Please upgrade to the latest version of your CLI (e.g., AWS CLI)."
)


def _ok_response(*actions):
    return HandshakeResponse("1.2.677.0", tuple(actions)).payload()


def _events(transcript):
    return [d["event"] for d in transcript["decisions"]]


def _open_encrypted_shell(make_agent, new_session, client_for, **options):
    """A fake agent (``options``: its settings), an interactive shell session with a KMS key,
    and a client that has opened it."""
    agent = make_agent(**options)
    spec = new_session(command="/bin/sh", kms_key_id=KEY_ALIAS)
    client = client_for(agent, spec.session_id)
    client.open(spec.token_value)
    return agent, spec, client


def _kms_response(blob):
    """Both actions done, the data key's ciphertext in the KMSEncryption result."""
    return _ok_response(
        ProcessedAction("SessionType", 1),
        ProcessedAction("KMSEncryption", 1, kms_action_result(blob)),
    )


def _through_handshake(client, spec, data_key):
    """Answer the KMS handshake and the challenge as a plugin would; return the
    HandshakeRequest, the challenge's secret and the HandshakeComplete."""
    request = client.expect(PayloadType.HANDSHAKE_REQUEST)
    plaintext, blob = data_key(spec.session_id, TARGET)
    client.send(PayloadType.HANDSHAKE_RESPONSE, _kms_response(blob))
    client.cipher = SessionCipher(plaintext, role="client")
    challenge = client.expect(PayloadType.ENC_CHALLENGE_REQUEST)
    secret = client.cipher.decrypt(unb64(challenge.json()["Challenge"]))
    client.send(
        PayloadType.ENC_CHALLENGE_RESPONSE, challenge_payload(client.cipher.encrypt(secret))
    )
    return request, secret, client.expect(PayloadType.HANDSHAKE_COMPLETE)


def test_unencrypted_shell_has_no_handshake(make_agent, new_session, client_for):
    """§3.4: Standard_Stream without KMS skips the handshake; the first Output is the shell."""
    agent = make_agent()
    spec = new_session(kind="ssm", target="i-0123456789abcdef0", session_type="Standard_Stream")
    client = client_for(agent, spec.session_id)
    client.open(spec.token_value, client_version=None)
    first = client.expect(PayloadType.OUTPUT)
    assert (first.sequence_number, first.flags, first.payload) == (0, FLAGS_SYN, b"# ")
    client.send(PayloadType.SIZE, b'{"cols":300,"rows":100}')
    client.send(PayloadType.OUTPUT, b"whoami\r")
    assert client.read_until(b"# ") == b"whoami\r\nroot\r\n# "
    client.send(PayloadType.OUTPUT, b"echo 'hi there'\r")
    assert client.read_until(b"# ") == b"echo 'hi there'\r\nhi there\r\n# "
    client.send(PayloadType.OUTPUT, b"nope\r")
    assert client.read_until(b"# ") == b"nope\r\nsh: 1: nope: not found\r\n# "
    client.send(PayloadType.OUTPUT, b"exit\r")
    assert client.closing_output() == ""
    assert sorted(a.sequence_number for a in client.acks) == [0, 1, 2, 3, 4]

    transcript = agent.wait_closed(spec.session_id, 5)
    assert transcript is not None
    assert transcript["outcome"] == "completed"
    assert transcript["handshake"] == "skipped"
    assert transcript["closing_output"] == ""
    assert transcript["client"]["client_version_sent"] is False
    assert transcript["client"]["token_ok"] is True
    assert "handshake-skipped" in _events(transcript)


def test_command_session_runs_once_and_closes(make_agent, new_session, client_for):
    """ECS exec ``--command "echo hello"`` without KMS: output, then channel_closed ""."""
    agent = make_agent()
    spec = new_session(command="echo hello")
    client = client_for(agent, spec.session_id)
    client.open(spec.token_value)
    assert client.output() == b"hello\r\n"
    assert client.closing_output() == ""
    transcript = agent.wait_closed(spec.session_id, 5)
    assert transcript["outcome"] == "completed"
    assert transcript["client"]["client_version"] == "1.2.677.0"


def test_encrypted_session_handshake_challenge_and_io(
    make_agent, new_session, client_for, data_key, moto_kms
):
    """§3.7 "Encrypted shell": KMS handshake, challenge, CustomerMessage, encrypted I/O."""
    agent = make_agent()
    spec = new_session(command="/bin/sh", kms_key_id=KEY_ALIAS)
    started = time.monotonic()
    client = client_for(agent, spec.session_id)
    client.open(spec.token_value)

    request, secret, complete = _through_handshake(client, spec, data_key)
    assert (request.sequence_number, request.flags) == (0, FLAGS_SYN)
    body = request.json()
    assert list(body) == ["AgentVersion", "RequestedClientActions"]
    session_action, kms_action = body["RequestedClientActions"]
    assert session_action == {
        "ActionType": "SessionType",
        "ActionParameters": {"SessionType": "InteractiveCommands", "Properties": None},
    }
    assert kms_action["ActionType"] == "KMSEncryption"
    assert kms_action["ActionParameters"]["KMSKeyId"] == KEY_ALIAS
    assert len(unb64(kms_action["ActionParameters"]["Challenge"])) == 16
    assert len(secret) == 64
    assert complete.json()["CustomerMessage"] == "This session is encrypted using AWS KMS."
    client.send(PayloadType.SIZE, b'{"cols":80,"rows":24}')
    assert client.output() == b"# "
    client.send(PayloadType.OUTPUT, b"whoami\r")
    assert client.read_until(b"# ") == b"whoami\r\nroot\r\n# "
    client.send(PayloadType.OUTPUT, b"exit\r")
    assert client.closing_output() == ""
    elapsed = time.monotonic() - started

    transcript = agent.wait_closed(spec.session_id, 5)
    assert transcript["outcome"] == "completed"
    assert transcript["encrypted"] is True
    assert transcript["challenge"] == "passed"
    kms = next(d for d in transcript["decisions"] if d["event"] == "kms-decrypt")
    assert kms["ok"] is True
    assert kms["encryption_context"] == {
        "aws:ssm:SessionId": spec.session_id,
        "aws:ssm:TargetId": TARGET,
    }
    shown = [m for m in transcript["messages"] if m.get("encrypted")]
    assert any(m["dir"] == "in" and m["text"] == "whoami\r" for m in shown)
    assert any(m["dir"] == "out" and m["text"] == "whoami\r\nroot\r\n# " for m in shown)
    assert elapsed < 3, elapsed


def test_wrong_target_fails_kms_decrypt_with_the_agents_text(
    make_agent, new_session, client_for, data_key
):
    """§2.3: the plugin's TargetId differs from the agent's, so kms:Decrypt fails."""
    agent, spec, client = _open_encrypted_shell(make_agent, new_session, client_for)
    client.expect(PayloadType.HANDSHAKE_REQUEST)
    _, blob = data_key(spec.session_id, "")  # a 5-argv plugin: TargetId ""
    client.send(PayloadType.HANDSHAKE_RESPONSE, _kms_response(blob))
    output = client.closing_output()
    assert output == (
        ERROR + "Fetching data key failed: Unable to retrieve data key, "
        "Error when decrypting data key InvalidCiphertextException: "
    )
    transcript = agent.wait_closed(spec.session_id, 5)
    assert transcript["outcome"] == "kms-decrypt-failed"
    assert transcript["closing_output"] == output
    kms = next(d for d in transcript["decisions"] if d["event"] == "kms-decrypt")
    assert kms["encryption_context"]["aws:ssm:TargetId"] == TARGET
    assert kms["detail"]["code"] == "InvalidCiphertextException"


@pytest.mark.parametrize("legacy", [LEGACY_OLD, LEGACY_NEW], ids=["1.2.234.0", "1.2.677.0"])
def test_legacy_cli_failure_gives_the_exact_error_block(
    make_agent, new_session, client_for, legacy
):
    """§2.2: ``KMSEncryption failed on client with status 2 error: ...``; Errors[] ignored."""
    agent, spec, client = _open_encrypted_shell(make_agent, new_session, client_for)
    client.expect(PayloadType.HANDSHAKE_REQUEST)
    response = HandshakeResponse(
        "1.2.677.0",
        (
            ProcessedAction("SessionType", 1),
            ProcessedAction(
                "KMSEncryption", 2, None, f"Failed to process action KMSEncryption: {legacy}"
            ),
        ),
        (legacy,),
    )
    client.send(PayloadType.HANDSHAKE_RESPONSE, response.payload())
    assert client.closing_output() == (
        ERROR + "KMSEncryption failed on client with status 2 error: "
        f"Failed to process action KMSEncryption: {legacy}"
    )
    assert [a.sequence_number for a in client.acks] == [0]
    transcript = agent.wait_closed(spec.session_id, 5)
    assert transcript["outcome"] == "client-handshake-error"
    assert "client-errors-ignored" in _events(transcript)


@pytest.mark.parametrize("known", [True, False], ids=["bad-token", "unknown-session"])
def test_bad_token_is_refused_and_never_written(
    make_agent, new_session, client_for, tmp_path, known
):
    agent = make_agent()
    spec = new_session()
    session_id = spec.session_id if known else "no-such-session"
    client = client_for(agent, session_id)
    client.open("WRONG-TOKEN-VALUE")
    with pytest.raises(ConnectionClosed) as caught:
        client.ws.recv(timeout=5)
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 1008
    transcript = agent.wait_closed(session_id, 5)
    assert transcript["outcome"] == ("bad-token" if known else "unknown-session")
    assert transcript["client"]["token_ok"] is False
    text = (tmp_path / "transcripts" / f"{session_id}.json").read_text()
    assert "WRONG-TOKEN-VALUE" not in text and spec.token_value not in text
    assert json.loads(text) == transcript


def test_handshake_timeout(make_agent, new_session, client_for):
    """§2.2: no HandshakeResponse within the timeout (15 s real, 0.4 s here)."""
    agent = make_agent(handshake_timeout_s=0.4)
    spec = new_session(command="date", session_type="NonInteractiveCommands")
    client = client_for(agent, spec.session_id)
    client.open(spec.token_value)
    request = client.expect(PayloadType.HANDSHAKE_REQUEST)
    assert request.json()["RequestedClientActions"] == [
        {
            "ActionType": "SessionType",
            "ActionParameters": {"SessionType": "NonInteractiveCommands", "Properties": None},
        }
    ]
    assert client.closing_output() == (
        ERROR + "Handshake timed out. Please ensure that you have the latest version of the "
        "session manager plugin."
    )
    assert agent.wait_closed(spec.session_id, 5)["outcome"] == "handshake-timeout"


def test_port_session_echoes_and_selects_basic_forwarding(make_agent, new_session, client_for):
    """§3.8: Port always handshakes, never encrypts; AgentVersion 3.0.196.0 = basic mode."""
    agent = make_agent()
    properties = {"portNumber": "80", "localPortNumber": "0", "type": "LocalPortForwarding"}
    spec = new_session(
        kind="ssm",
        target="i-0123456789abcdef0",
        session_type="Port",
        properties=properties,
        kms_key_id=KEY_ALIAS,
    )
    client = client_for(agent, spec.session_id)
    client.open(spec.token_value)
    body = client.expect(PayloadType.HANDSHAKE_REQUEST).json()
    assert body == {
        "AgentVersion": "3.0.196.0",
        "RequestedClientActions": [
            {
                "ActionType": "SessionType",
                "ActionParameters": {"SessionType": "Port", "Properties": properties},
            }
        ],
    }
    client.send(PayloadType.HANDSHAKE_RESPONSE, _ok_response(ProcessedAction("SessionType", 1)))
    assert client.expect(PayloadType.HANDSHAKE_COMPLETE).json()["CustomerMessage"] == ""
    client.send(PayloadType.OUTPUT, b"GET / HTTP/1.0\r\n\r\n")
    assert client.output() == b"GET / HTTP/1.0\r\n\r\n"
    client.send(PayloadType.FLAG, flag_payload(Flag.DISCONNECT_TO_PORT))
    client.send(PayloadType.FLAG, flag_payload(Flag.TERMINATE_SESSION))
    assert client.closing_output() == ""
    transcript = agent.wait_closed(spec.session_id, 5)
    assert transcript["outcome"] == "client-terminated"
    assert transcript["encrypted"] is False
    flags = [d["name"] for d in transcript["decisions"] if d["event"] == "client-flag"]
    assert flags == ["DISCONNECT_TO_PORT", "TERMINATE_SESSION"]


def test_unacked_output_is_resent(make_agent, new_session, client_for):
    """The plugin drops output it is not ready for; the agent must resend it (§3.3)."""
    agent = make_agent()
    spec = new_session(kind="ssm", session_type="Standard_Stream")
    client = client_for(agent, spec.session_id)
    client.auto_ack = False
    client.open(spec.token_value)
    first = client.expect(PayloadType.OUTPUT)
    again = client.expect(PayloadType.OUTPUT, timeout=2)
    assert (again.sequence_number, again.message_id, again.payload) == (
        first.sequence_number,
        first.message_id,
        first.payload,
    )


def test_out_of_order_input_is_buffered_and_duplicates_reacked(make_agent, new_session, client_for):
    agent = make_agent()
    spec = new_session(kind="ssm", session_type="Standard_Stream")
    client = client_for(agent, spec.session_id)
    client.open(spec.token_value)
    client.expect(PayloadType.OUTPUT)
    client.send(PayloadType.OUTPUT, b"mi\r", seq=1)
    client.send(PayloadType.OUTPUT, b"whoa", seq=0)
    assert client.read_until(b"# ") == b"whoami\r\nroot\r\n# "
    client.send(PayloadType.OUTPUT, b"whoa", seq=0)
    client.send(PayloadType.OUTPUT, b"exit\r", seq=2)
    assert client.closing_output() == ""
    assert [a.sequence_number for a in client.acks] == [1, 0, 0, 2]


def test_idle_session_is_closed(make_agent, new_session, client_for):
    agent = make_agent(idle_timeout_s=0.3)
    spec = new_session(kind="ssm", session_type="Standard_Stream")
    client = client_for(agent, spec.session_id)
    client.open(spec.token_value)
    assert client.closing_output() == ""
    assert agent.wait_closed(spec.session_id, 5)["outcome"] == "idle-timeout"


def test_client_disconnect_is_recorded(make_agent, new_session, client_for):
    agent, spec, client = _open_encrypted_shell(make_agent, new_session, client_for)
    client.expect(PayloadType.HANDSHAKE_REQUEST)
    client.close()
    transcript = agent.wait_closed(spec.session_id, 5)
    assert transcript["outcome"] == "client-disconnected"
    assert transcript["handshake"] == "requested"


def test_wrong_path_is_404(make_agent):
    agent = make_agent()
    with pytest.raises(InvalidStatus) as caught:
        connect(f"{agent.url}/v2/elsewhere", open_timeout=5)
    assert caught.value.response.status_code == 404


def test_lifecycle(registry, tmp_path):
    agent = FakeAgent(registry, kms_endpoint_url=None, transcript_dir=tmp_path)
    with pytest.raises(AgentError, match="not started"):
        _ = agent.url
    with agent:
        assert agent.url.startswith("ws://127.0.0.1:")
        assert agent.port != 0
        with pytest.raises(AgentError, match="already called"):
            agent.start()
    agent.stop()
    with pytest.raises(ValueError, match="loopback"):
        FakeAgent(registry, kms_endpoint_url=None, transcript_dir=tmp_path, host="0.0.0.0")
    assert agent.wait_closed("nothing", 0.01) is None


def test_input_before_size_completes_through_resends(make_agent, new_session, client_for, data_key):
    """Issue: keystrokes sent before the Size (the plugin's stdin loop beat its size
    goroutine) while the pty is still opening. The agent refuses the first unacked, acks
    and buffers the second; the client's resend of the oldest one completes the session."""
    agent, spec, client = _open_encrypted_shell(
        make_agent, new_session, client_for, shell_start_s=0.3
    )
    _through_handshake(client, spec, data_key)
    typed = client.send(PayloadType.OUTPUT, b"whoami\r")
    client.send(PayloadType.SIZE, b'{"cols":80,"rows":24}')
    assert client.read_until(b"# whoami\r\nroot\r\n# ") == b"# whoami\r\nroot\r\n# "
    assert typed.sequence_number in client.resent
    client.send(PayloadType.OUTPUT, b"exit\r")
    assert client.closing_output() == ""

    transcript = agent.wait_closed(spec.session_id, 5)
    assert transcript["outcome"] == "completed"
    refused = [d for d in transcript["decisions"] if d["event"] == "handler-not-ready"]
    assert refused and {d["seq"] for d in refused} == {typed.sequence_number}
    shown = [m for m in transcript["messages"] if m.get("encrypted") and m["dir"] == "in"]
    assert [m["text"] for m in shown if not m.get("buffered")][-2:] == ["whoami\r", "exit\r"]


def test_client_that_never_resends_hangs_to_the_idle_timeout(
    make_agent, new_session, client_for, data_key
):
    """The other side of the contract: refused input is not answered at all, so a client
    without resends (the bug the fake agent used to hide by acking) gets nothing back."""
    agent, spec, client = _open_encrypted_shell(
        make_agent, new_session, client_for, shell_start_s=0.3, idle_timeout_s=1.5
    )
    client.auto_resend = False
    _through_handshake(client, spec, data_key)
    client.send(PayloadType.OUTPUT, b"whoami\r")
    assert client.output() == b"# "  # the pty opened; the keystrokes were never replayed
    with pytest.raises(TimeoutError):
        client.output(timeout=0.8)
    transcript = agent.wait_closed(spec.session_id, 5)
    assert transcript["outcome"] == "idle-timeout"


def test_a_connection_still_served_at_the_deadline_is_waited_for(
    make_agent, new_session, client_for
):
    """A slow handler (a loaded machine) must not turn a judged session into "no transcript":
    past the deadline, a connection still being served is given its grace."""
    agent = make_agent()
    spec = new_session(kind="ssm", target="i-0123456789abcdef0", session_type="Standard_Stream")
    client = client_for(agent, spec.session_id)
    client.open(spec.token_value, client_version=None)
    client.expect(PayloadType.OUTPUT)
    closer = threading.Timer(0.5, client.ws.close)
    closer.start()
    try:
        transcript = agent.wait_closed(spec.session_id, 0.05, serving_grace=10.0)
    finally:
        closer.cancel()
    assert transcript is not None
    assert transcript["outcome"] == "client-disconnected"


def test_a_session_that_never_connected_is_not_waited_for_past_the_deadline(
    make_agent, new_session
):
    agent = make_agent()
    spec = new_session()
    started = time.monotonic()
    assert agent.wait_closed(spec.session_id, 0.05, serving_grace=10.0) is None
    assert time.monotonic() - started < 5.0
