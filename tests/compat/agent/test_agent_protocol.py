"""The agent state machine fed bytes and a clock, no sockets (AGENT@1c217c89 datachannel.go)."""

from __future__ import annotations

import dataclasses
import os

import pytest

from compat.agent import texts
from compat.agent.kms import KmsResult
from compat.agent.protocol import AgentConfig, AgentSession, Close
from compat.agent.shell import ScriptedShell, is_interactive
from fake_plugin import wire
from fake_plugin.crypto import SessionCipher
from fake_plugin.datachannel import ClientDataChannel, DataKey
from fake_plugin.handshake import (
    ProcessedAction,
    challenge_payload,
    kms_action_result,
    unb64,
)
from fake_plugin.wire import ClientMessage, PayloadType
from tests.compat.agent.sans_io import (
    SPEC,
    T0,
    handshake_response,
    input_frame,
    open_session,
    take_frames,
)


def _closing(frames):
    closed = [
        f for f in frames if isinstance(f, ClientMessage) and f.message_type == "channel_closed"
    ]
    return closed[0].json()["Output"] if closed else None


def test_last_failing_action_sets_the_text():
    """datachannel.go:861-884: each failing action overwrites the error; the last one wins,
    and a successful KMSEncryption after a failed one is still decrypted."""
    session = open_session()
    take_frames(session)
    response = handshake_response(
        ProcessedAction("SessionType", 2, None, "Failed to process action SessionType: x"),
        ProcessedAction("KMSEncryption", 1, kms_action_result(b"blob")),
    )
    session.receive_binary(response, T0 + 1)
    assert [r.ciphertext for r in session.pending_kms] == [b"blob"]
    assert session.pending_kms[0].context == {
        "aws:ssm:SessionId": "sess-1",
        "aws:ssm:TargetId": "ecs:c_t_r",
    }
    session.kms_done(
        [KmsResult(None, texts.sdk_error("IncorrectKeyException", "bad key", 400, "rid"))], T0 + 1
    )
    frames = take_frames(session)
    assert frames[0].message_type == "acknowledge"
    assert _closing(frames) == texts.ERROR_TITLE + (
        "Encountered error while initiating handshake. Fetching data key failed: Unable to "
        "retrieve data key, Error when decrypting data key IncorrectKeyException: bad key"
    )
    assert session.transcript.outcome == "kms-decrypt-failed"


def test_unsupported_action_reported_with_status_zero():
    session = open_session()
    take_frames(session)
    response = handshake_response(
        ProcessedAction("SessionType", 1),
        ProcessedAction("KMSEncryption", 0, None, "Unsupported action KMSEncryption"),
    )
    session.receive_binary(response, T0 + 1)
    assert _closing(take_frames(session)).endswith(
        "KMSEncryption failed on client with status 0 error: Unsupported action KMSEncryption"
    )
    assert session.transcript.outcome == "client-handshake-error"


def _through_kms(session, key):
    """The HandshakeResponse at T0 + 1, KMS answering with ``key``; the challenge request."""
    session.receive_binary(handshake_response(), T0 + 1)
    session.kms_done([KmsResult(key)], T0 + 1)
    frames = take_frames(session)
    return next(f for f in frames if f.payload_type == PayloadType.ENC_CHALLENGE_REQUEST)


def test_challenge_mismatch_is_unacked_then_times_out():
    """datachannel.go:892-916: a wrong answer is never signalled, so the agent's only text is
    the challenge timeout; the transcript still says why."""
    key = os.urandom(64)
    session = open_session(handshake_timeout_s=2.0)
    take_frames(session)
    _through_kms(session, key)
    wrong = SessionCipher(key, role="client").encrypt(b"x" * 64)
    session.receive_binary(
        input_frame(1, PayloadType.ENC_CHALLENGE_RESPONSE, challenge_payload(wrong)), T0 + 1.5
    )
    assert take_frames(session) == []  # no ack
    session.tick(T0 + 3.6)
    assert _closing(take_frames(session)) == (
        texts.ERROR_TITLE + "Encountered error while initiating handshake. "
        "Timed out waiting for encryption challenge."
    )
    assert session.transcript.outcome == "challenge-failed"
    assert session.transcript.challenge == "failed"


def test_no_challenge_response_times_out():
    key = os.urandom(64)
    session = open_session(handshake_timeout_s=2.0)
    take_frames(session)
    challenge = _through_kms(session, key)
    assert (
        len(SessionCipher(key, role="client").decrypt(unb64(challenge.json()["Challenge"]))) == 64
    )
    session.tick(T0 + 3.1)
    assert _closing(take_frames(session)).endswith("Timed out waiting for encryption challenge.")
    assert session.transcript.outcome == "challenge-timeout"


def test_input_during_handshake_is_acked_and_ignored():
    """datachannel.go:839-843: stream data before the handshake ends is dropped, yet acked."""
    session = open_session()
    take_frames(session)
    session.receive_binary(input_frame(0, PayloadType.SIZE, b'{"cols":1,"rows":1}'), T0 + 0.1)
    frames = take_frames(session)
    assert [f.message_type for f in frames] == ["acknowledge"]
    assert "ignored-during-handshake" in [d["event"] for d in session.transcript.decisions]


def _encrypted_and_complete(spec=SPEC):
    """A session (interactive by default) through KMS and the challenge, HandshakeComplete
    at T0 + 2; the client's cipher."""
    key = os.urandom(64)
    session = open_session(spec)
    take_frames(session)
    challenge = _through_kms(session, key)
    client = SessionCipher(key, role="client")
    answer = client.encrypt(client.decrypt(unb64(challenge.json()["Challenge"])))
    session.receive_binary(
        input_frame(1, PayloadType.ENC_CHALLENGE_RESPONSE, challenge_payload(answer)), T0 + 2
    )
    frames = take_frames(session)
    assert [f.payload_type for f in frames if f.message_type == "output_stream_data"] == [
        PayloadType.HANDSHAKE_COMPLETE
    ]
    return session, client


def test_undecryptable_client_output_stays_unacked():
    session, _ = _encrypted_and_complete()
    session.tick(T0 + 2.1)  # the shell is ready
    session.receive_binary(input_frame(2, PayloadType.SIZE, b'{"cols":1,"rows":1}'), T0 + 2.1)
    take_frames(session)
    session.receive_binary(
        input_frame(3, PayloadType.OUTPUT, b"not encrypted at all, sorry"), T0 + 2.1
    )
    assert take_frames(session) == []
    assert "decrypt-failed" in [d["event"] for d in session.transcript.decisions]


def _acked(frames):
    return [wire.parse_ack(f).sequence_number for f in frames if f.message_type == "acknowledge"]


def _shell_output(frames, cipher):
    return b"".join(
        cipher.decrypt(f.payload)
        for f in frames
        if f.message_type == "output_stream_data" and f.payload_type == PayloadType.OUTPUT
    )


def test_input_before_the_shell_is_ready_is_refused_unacked_then_resent():
    """datachannel.go:695-699 + shell_unix.go:425-433: input that reaches the agent before
    the pty is open gets no ack and no answer; a later message is acked and buffered; the
    client's resend of the oldest one then releases both, in order (the plugin's
    ResendStreamDataMessageScheduler, streaming.go:333-362)."""
    session, client = _encrypted_and_complete()
    typed = input_frame(2, PayloadType.OUTPUT, client.encrypt(b"whoami\r"))
    size = input_frame(3, PayloadType.SIZE, b'{"cols":80,"rows":24}')
    session.receive_binary(typed, T0 + 2.01)  # keystrokes first: the size goroutine lost
    session.receive_binary(size, T0 + 2.02)
    assert _acked(take_frames(session)) == [3]  # 2 refused unacked, 3 buffered and acked
    events = [d for d in session.transcript.decisions if d["event"] == "handler-not-ready"]
    assert [(d["seq"], d["payload_type"]) for d in events] == [(2, PayloadType.OUTPUT)]

    session.tick(T0 + 2.05)  # the pty opens: the prompt, but nothing typed is replayed
    assert _shell_output(take_frames(session), client) == b"# "
    session.receive_binary(typed, T0 + 2.25)  # the client's resend after its RTO
    frames = take_frames(session)
    assert _acked(frames) == [2]
    assert _shell_output(frames, client) == b"whoami\r\nroot\r\n# "
    assert session.transcript.decisions[-1]["event"] == "size"  # released from the buffer
    session.receive_binary(input_frame(4, PayloadType.OUTPUT, client.encrypt(b"exit\r")), T0 + 2.3)
    assert "session-ended" in [d["event"] for d in session.transcript.decisions]
    session.tick(T0 + 4.4)  # the drain gives up on output this test never acked
    assert session.transcript.outcome == "completed"


def test_size_before_the_shell_is_ready_is_refused_then_resent():
    """The usual order (Size first) meets the same refusal: every encrypted session makes
    the client resend once, as against a real agent whose pty is still starting."""
    session, client = _encrypted_and_complete()
    size = input_frame(2, PayloadType.SIZE, b'{"cols":80,"rows":24}')
    session.receive_binary(size, T0 + 2.001)
    assert take_frames(session) == []
    session.tick(T0 + 2.05)
    assert _shell_output(take_frames(session), client) == b"# "
    session.receive_binary(size, T0 + 2.3)
    assert _acked(take_frames(session)) == [2]
    assert [d["event"] for d in session.transcript.decisions][-3:] == [
        "handler-not-ready",
        "shell-started",
        "size",
    ]


def test_two_messages_numbered_alike_are_noted_when_the_second_is_dropped():
    """The plugin's size and input senders can both send number N (streaming.go reads and
    increments the sequence number without a lock). The agent handles the first, acks the
    second as a duplicate and drops it, like the real agent; the transcript says so, while a
    true resend (the same bytes) is no such event."""
    session, client = _encrypted_and_complete()
    size = input_frame(2, PayloadType.SIZE, b'{"cols":80,"rows":24}')
    typed = input_frame(2, PayloadType.OUTPUT, client.encrypt(b"whoami\r"))
    session.tick(T0 + 2.05)  # the pty opens
    take_frames(session)
    session.receive_binary(size, T0 + 2.1)
    session.receive_binary(size, T0 + 2.2)  # a resend: the same bytes
    assert "sequence-reused" not in [d["event"] for d in session.transcript.decisions]
    session.receive_binary(typed, T0 + 2.3)
    assert _acked(take_frames(session)) == [2, 2, 2]
    reused = [d for d in session.transcript.decisions if d["event"] == "sequence-reused"]
    assert [(d["seq"], d["kept_payload_type"], d["lost_payload_type"]) for d in reused] == [
        (2, PayloadType.SIZE, PayloadType.OUTPUT)
    ]


def test_binary_before_open_is_a_protocol_error():
    session = AgentSession("s", SPEC, AgentConfig(), T0)
    session.receive_binary(input_frame(0, PayloadType.SIZE, b"{}"), T0)
    assert session.take_outgoing() == [Close(1008, "binary frame before OpenDataChannel")]
    assert session.transcript.outcome == "protocol-error"


@pytest.mark.parametrize(
    ("stdout", "stderr", "expected"),
    [
        ("", "boom", "\n----------ERROR-------\nboom"),
        ("out", "", "out"),
        ("", "e" * 3000, "\n----------ERROR-------\n" + "e" * 2453 + "\n---Error truncated----"),
    ],
    ids=["error-only", "output-only", "truncated"],
)
def test_truncate_output(stdout, stderr, expected):
    """iohandler.go:436-470 (TruncateOutput, 2500 bytes)."""
    assert texts.truncate_output(stdout, stderr) == expected


def test_sdk_error_formats():
    """Modeled KMS exceptions print ``Code: Message``; others add status and request id."""
    assert (
        texts.sdk_error("InvalidCiphertextException", "", 400, "r")
        == "InvalidCiphertextException: "
    )
    assert texts.sdk_error("AccessDeniedException", "no", 400, "r-1") == (
        "AccessDeniedException: no\n\tstatus code: 400, request id: r-1"
    )


@pytest.mark.parametrize(
    ("command", "interactive"),
    [
        (None, True),
        ("/bin/sh", True),
        ("bash -l", True),
        ("sh -c 'echo a'", False),
        ("ls", False),
        # ssm-ecs 0.6 (ssmecs/ssm_ecs.py start): the container's shell, through the host's docker.
        (
            'docker exec -it $(docker ps --filter "name=ecs-f-1-app-" --format {{.ID}}) /bin/sh',
            True,
        ),
        ("docker exec -i c1 sh -c 'echo a'", False),
        ("docker ps", False),
    ],
)
def test_is_interactive(command, interactive):
    assert is_interactive(command) is interactive


def test_one_shot_script_answers():
    shell = ScriptedShell("sh -c 'echo a b; whoami && hostname; cat /etc/os-release; frob'")
    step = shell.start()
    assert step.exited
    text = step.output.decode()
    assert text.startswith("a b\r\nroot\r\nsmp-compat-target\r\nPRETTY_NAME=")
    assert text.endswith("sh: 1: frob: not found\r\n")


def test_docker_exec_runs_its_command_in_the_container():
    step = ScriptedShell("docker exec -it $(docker ps -q --latest) sh -c 'echo in; whoami'").start()
    assert (step.exited, step.output) == (True, b"in\r\nroot\r\n")


def test_interactive_shell_echo_like_a_pty():
    shell = ScriptedShell("/bin/bash")
    assert shell.start().output == b"# "
    assert shell.feed(b"ech").output == b"ech"
    assert shell.feed(b"o hi\r").output == b"o hi\r\nhi\r\n# "
    assert shell.feed(b"x\x7f\x03").output == b"x\b \b^C\r\n# "
    step = shell.feed(b"exit\r")
    assert step.exited and step.output == b"exit\r\n"


def test_non_interactive_commands_never_say_not_ready():
    """shell_unix.go:428: the readiness check is skipped for NonInteractiveCommands, whose
    handler acks input (it only looks for control signals) even before the command runs."""
    spec = dataclasses.replace(SPEC, session_type="NonInteractiveCommands")
    session, _ = _encrypted_and_complete(spec)
    session.receive_binary(input_frame(2, PayloadType.SIZE, b'{"cols":1,"rows":1}'), T0 + 2.01)
    assert _acked(take_frames(session)) == [2]
    assert "handler-not-ready" not in [d["event"] for d in session.transcript.decisions]


def test_fake_plugin_channel_recovers_keystrokes_the_agent_was_not_ready_for():
    """Both sans-I/O ends together on one clock: the plugin's stdin beats its size thread
    before the pty opens; the agent refuses the keystrokes unacked, and the plugin's resend
    scheduler (oldest unacked message, after its RTO, on 100 ms ticks: streaming.go:333-362)
    delivers them once the shell is ready."""
    clock = [T0]
    key = os.urandom(64)
    agent = open_session()
    to_agent: list[bytes] = []
    printed: list[bytes] = []
    shell: list[bytes] = []
    plugin = ClientDataChannel(
        session_id=SPEC.session_id,
        target_id=SPEC.target,
        client_version="1.2.677.0",
        legacy_cli=False,
        decrypted_payload_types=(PayloadType.OUTPUT,),
        send=to_agent.append,
        display=printed.append,
        kms=lambda key_id, context: DataKey(b"blob", key),
        on_session_type=lambda ok: None,
        on_closed=lambda output: None,
        clock=lambda: clock[0],
    )

    def pump():
        moved = True
        while moved:
            moved = False
            for item in agent.take_outgoing():
                if isinstance(item, bytes):
                    plugin.receive(item)
                    moved = True
            while to_agent:
                agent.receive_binary(to_agent.pop(0), clock[0])
                moved = True
            if agent.pending_kms:
                agent.kms_done([KmsResult(key) for _ in agent.pending_kms], clock[0])
                moved = True

    pump()
    assert printed == [b"This session is encrypted using AWS KMS.\n"]
    plugin.register_handler(lambda message: shell.append(message.payload) is None)
    plugin.send_input(PayloadType.OUTPUT, b"whoami\r")
    plugin.send_input(PayloadType.SIZE, b'{"cols":80,"rows":24}')
    pump()
    assert plugin.pending == 1  # the keystrokes; the Size was acked and buffered
    ticks = 0
    while plugin.pending and ticks < 20:
        clock[0] += 0.1
        ticks += 1
        agent.tick(clock[0])
        plugin.resend_due()
        pump()
    assert plugin.pending == 0 and 2 <= ticks <= 4, ticks
    assert b"".join(shell) == b"# whoami\r\nroot\r\n# "
    refused = [d for d in agent.transcript.decisions if d["event"] == "handler-not-ready"]
    assert {d["seq"] for d in refused} == {2}
