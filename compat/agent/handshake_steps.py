"""The agent's side of the handshake: HandshakeRequest/Response, the KMS data key, the challenge.

A part of :class:`compat.agent.protocol.AgentSession`, kept apart because it is the phase
between the OpenDataChannel and the session plugin's start: docs/plugin.md §3.4-§3.5,
sessionplugin.go:83-122 and datachannel.go's PerformHandshake.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from compat.agent import texts
from compat.agent.channel import (
    ALWAYS_HANDSHAKE,
    ENC_CHALLENGE_BYTES,
    KMS_RANDOM_CHALLENGE_BYTES,
    HandshakeState,
    Phase,
)
from compat.agent.data_key import cipher_or_error, decrypt_record, decrypt_request, redact_result
from compat.agent.kms import KmsRequest, KmsResult
from compat.agent.sessions import SessionSpec
from compat.agent.state import SessionState
from compat.agent.transcript import SessionOutcome
from fake_plugin.crypto import SessionCipher
from fake_plugin.errors import DecryptError
from fake_plugin.handshake import (
    KMS_ENCRYPTION,
    SESSION_TYPE,
    ActionStatus,
    HandshakeRequest,
    HandshakeResponse,
    RequestedAction,
    b64,
    challenge_payload,
    handshake_complete_payload,
    unb64,
)
from fake_plugin.wire import ClientMessage, PayloadType

__all__ = ["Handshake"]

#: The phases in which stream data is dropped, yet acked (datachannel.go:839-843).
_HANDSHAKING = (Phase.HANDSHAKE, Phase.KMS, Phase.CHALLENGE)


class Handshake:
    """The handshake of one session; ``start`` runs the session plugin once it is complete."""

    def __init__(self, state: SessionState, start: Callable[[float], None]) -> None:
        self._s = state
        self._start = start
        self._hs = HandshakeState()
        #: Work the real agent does after the handler returned and the ack went out.
        self._deferred: Callable[[float], None] | None = None

    @property
    def plugin_ready_at(self) -> float | None:
        """When the session plugin's handler becomes ready (set on HandshakeComplete)."""
        return self._hs.plugin_ready_at

    @property
    def pending_kms(self) -> list[KmsRequest]:
        if self._s.phase is not Phase.KMS:
            return []
        return [request for _, request in self._hs.kms_requests]

    def begin(self, spec: SessionSpec, now: float) -> None:
        """Handshake or not, as sessionplugin.go:83-115 decides."""
        # isEncryptionEnabled: a key and not Port (sessionplugin.go:119-122).
        encryption = bool(spec.kms_key_id) and spec.session_type != "Port"
        transcript = self._s.transcript
        if not (spec.session_type in ALWAYS_HANDSHAKE or encryption):
            transcript.handshake = "skipped"
            transcript.decide(now, "handshake-skipped", session_type=spec.session_type)
            self._start(now)
            return
        request = HandshakeRequest(self._s.agent_version(), _requested_actions(spec, encryption))
        self._hs = HandshakeState(
            requested=True,
            encryption=encryption,
            sent_at=now,
            deadline=now + self._s.config.handshake_timeout_s,
        )
        transcript.handshake = "requested"
        transcript.decide(
            now,
            "handshake-requested",
            session_type=spec.session_type,
            kms_key_id=spec.kms_key_id if encryption else None,
            agent_version=request.agent_version,
        )
        self._s.phase = Phase.HANDSHAKE
        self._s.out.send(PayloadType.HANDSHAKE_REQUEST, request.payload(), now)

    def process(self, message: ClientMessage, now: float) -> bool | None:
        """A message for the handshake: handled (True) or to leave unacked (False); None: it
        is stream data, for the session plugin."""
        if message.payload_type == PayloadType.HANDSHAKE_RESPONSE:
            return self._on_response(message, now)
        if message.payload_type == PayloadType.ENC_CHALLENGE_RESPONSE:
            return self._on_challenge_response(message, now)
        if self._s.phase in _HANDSHAKING:
            # "Handshake still in progress, ignore stream data message" (datachannel.go:839-843)
            seq = message.sequence_number
            self._s.transcript.decide(now, "ignored-during-handshake", seq=seq)
            return True
        return None

    def kms_done(self, results: list[KmsResult], now: float) -> None:
        """The answers to :attr:`pending_kms`, in order."""
        if self._s.phase is not Phase.KMS:
            raise RuntimeError("no KMS call is pending")
        for (index, request), result in zip(self._hs.kms_requests, results, strict=True):
            self._hs.kms_results[index] = result
            self._s.transcript.decide(now, "kms-decrypt", **decrypt_record(request, result))
        self._s.phase = Phase.HANDSHAKE
        self._finish_response(now)

    def run_deferred(self, now: float) -> None:
        """PerformHandshake reacting to the response, after its ack (datachannel.go:970-1010)."""
        deferred, self._deferred = self._deferred, None
        if deferred is not None:
            deferred(now)

    def expired(self, now: float) -> bool:
        """Close the session if the client's answer is overdue; True if it was."""
        hs, phase = self._hs, self._s.phase
        limit = self._s.config.handshake_timeout_s
        if phase is Phase.HANDSHAKE and now >= hs.deadline:
            self._s.transcript.decide(now, "handshake-timeout", after_s=limit)
            self._fail(now, "handshake-timeout", texts.HANDSHAKE_TIMED_OUT)
            return True
        if phase is Phase.CHALLENGE and now >= hs.deadline:
            outcome: SessionOutcome = (
                "challenge-failed" if hs.challenge_error else "challenge-timeout"
            )
            if outcome == "challenge-timeout":
                self._s.transcript.challenge = "timeout"
            self._s.transcript.decide(now, "challenge-timeout", after_s=limit)
            self._fail(now, outcome, texts.CHALLENGE_TIMED_OUT)
            return True
        return False

    def _on_response(self, message: ClientMessage, now: float) -> bool:
        transcript = self._s.transcript
        if self._s.phase is not Phase.HANDSHAKE:
            transcript.decide(now, "unexpected-handshake-response", phase=self._s.phase.value)
            return True
        try:
            response = HandshakeResponse.parse(message.json())
        except (ValueError, AttributeError, TypeError) as exc:
            # datachannel.go:856-859: the handler fails, the message stays unacked.
            transcript.decide(now, "handshake-response-unparsable", error=str(exc))
            return False
        hs = self._hs
        hs.response = response
        transcript.client["handshake_client_version"] = response.client_version
        assert self._s.spec is not None
        for index, action in enumerate(response.actions):
            transcript.decide(
                now,
                "client-action",
                action_type=action.action_type,
                status=action.status,
                error=action.error,
                result=redact_result(action.result),
            )
            if action.status == ActionStatus.SUCCESS and action.action_type == KMS_ENCRYPTION:
                request = decrypt_request(self._s.spec, self._s.session_id, action.result)
                hs.kms_requests.append((index, request))
        if response.errors:
            # Errors[] is ignored by the agent (datachannel.go:854-889); kept for the record.
            transcript.decide(now, "client-errors-ignored", errors=list(response.errors))
        # The agent acks the response once its handler returned: the ack goes out now, the
        # KMS call (if any) and the rest of the handling happen before the next frame.
        if hs.kms_requests:
            self._s.phase = Phase.KMS
            return True
        self._deferred = self._finish_response
        return True

    def _finish_response(self, now: float) -> None:
        """The loop of handleHandshakeResponse: every failing action sets the error, the last
        one wins (datachannel.go:861-884); then PerformHandshake goes on (:970-1010)."""
        hs = self._hs
        assert hs.response is not None
        error: tuple[SessionOutcome, str] | None = None
        for index, action in enumerate(hs.response.actions):
            if action.status != ActionStatus.SUCCESS:
                text = texts.client_action_failed(action.action_type, action.status, action.error)
                error = ("client-handshake-error", text)
            elif action.action_type == KMS_ENCRYPTION:
                cipher = cipher_or_error(hs.kms_results[index])
                if isinstance(cipher, SessionCipher):
                    self._s.out.cipher = cipher
                else:
                    error = ("kms-decrypt-failed", cipher)
            elif action.action_type != SESSION_TYPE:
                self._s.transcript.decide(
                    now, "unknown-client-action", action_type=action.action_type
                )
        if error is not None:
            self._fail(now, error[0], error[1])
            return
        if hs.encryption:
            self._send_challenge(now)
            return
        self._complete(now)

    def _send_challenge(self, now: float) -> None:
        hs = self._hs
        hs.deadline = now + self._s.config.handshake_timeout_s
        self._s.phase = Phase.CHALLENGE
        cipher = self._s.out.cipher
        if cipher is None:
            # The client returned no KMSEncryption action; the real agent would try to encrypt
            # with no key. We record it and let the challenge time out.
            self._s.transcript.decide(now, "challenge-not-sent", reason="no data key from client")
            hs.challenge_error = "no KMSEncryption action in the HandshakeResponse"
            return
        self._s.transcript.encrypted = True
        hs.challenge = os.urandom(ENC_CHALLENGE_BYTES)
        self._s.transcript.decide(now, "challenge-sent")
        encrypted = cipher.encrypt(hs.challenge)
        self._s.out.send(PayloadType.ENC_CHALLENGE_REQUEST, challenge_payload(encrypted), now)

    def _on_challenge_response(self, message: ClientMessage, now: float) -> bool:
        """datachannel.go:892-916. On failure the handler returns an error *without* signalling
        the waiting PerformHandshake, so the message stays unacked and the user sees only
        ``Timed out waiting for encryption challenge.`` after the timeout."""
        hs, transcript, cipher = self._hs, self._s.transcript, self._s.out.cipher
        if self._s.phase is not Phase.CHALLENGE or cipher is None:
            transcript.decide(now, "unexpected-challenge-response", phase=self._s.phase.value)
            return True
        try:
            answer = cipher.decrypt(unb64(str(message.json()["Challenge"])))
        except (ValueError, KeyError, TypeError, DecryptError) as exc:
            reason = f"Error decrypting encrypted text: {exc}"
        else:
            if answer == hs.challenge:
                transcript.challenge = "passed"
                transcript.decide(now, "challenge-passed")
                self._deferred = self._complete
                return True
            reason = texts.CHALLENGE_MISMATCH
        if hs.challenge_error is None:
            transcript.challenge = "failed"
            transcript.decide(now, "challenge-failed", reason=reason)
        hs.challenge_error = reason
        return False

    def _complete(self, now: float) -> None:
        hs, spec = self._hs, self._s.spec
        assert spec is not None
        message = texts.ENCRYPTED_CUSTOMER_MESSAGE if self._s.out.cipher is not None else ""
        took_ns = int((now - hs.sent_at) * 1e9)
        hs.complete_seq = self._s.out.send(
            PayloadType.HANDSHAKE_COMPLETE, handshake_complete_payload(took_ns, message), now
        )
        self._s.transcript.handshake = "complete"
        self._s.transcript.decide(
            now,
            "handshake-complete",
            customer_message=message,
            session_type_confirmed=spec.session_type,
        )
        self._s.phase = Phase.READY
        if spec.session_type == "Port":
            self._start(now)
        else:
            # PerformHandshake returns and the shell plugin starts its pty (shell.go:177-260).
            hs.plugin_ready_at = now + self._s.config.shell_start_s

    def _fail(self, now: float, outcome: SessionOutcome, error: str) -> None:
        self._s.transcript.handshake = "failed"
        self._s.transcript.decide(now, "handshake-failed", outcome=outcome, error=error)
        self._s.close_channel(now, outcome, texts.handshake_failed_output(error))


def _requested_actions(spec: SessionSpec, encryption: bool) -> tuple[RequestedAction, ...]:
    """SessionType always (with Properties for Port), KMSEncryption when encrypting."""
    properties = spec.properties if spec.session_type == "Port" else None
    session_type = {"SessionType": spec.session_type, "Properties": properties}
    actions = [RequestedAction(SESSION_TYPE, session_type)]
    if encryption:
        assert spec.kms_key_id is not None
        kms = {
            "KMSKeyId": spec.kms_key_id,
            "Challenge": b64(os.urandom(KMS_RANDOM_CHALLENGE_BYTES)),
        }
        actions.append(RequestedAction(KMS_ENCRYPTION, kms))
    return tuple(actions)
