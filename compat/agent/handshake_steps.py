"""The agent's side of the handshake: HandshakeRequest/Response, the KMS data key, the challenge.

A part of :class:`compat.agent.protocol.AgentSession` (its one subclass), kept apart because it
is the KMS half of the session: docs/plugin.md §3.4-§3.5, datachannel.go's handshake.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from compat.agent import texts
from compat.agent.channel import (
    ENC_CHALLENGE_BYTES,
    AgentConfig,
    HandshakeState,
    Phase,
)
from compat.agent.kms import KmsRequest
from compat.agent.sessions import SessionSpec
from compat.agent.transcript import SessionOutcome, Transcript
from fake_plugin.crypto import SessionCipher
from fake_plugin.errors import DecryptError
from fake_plugin.handshake import (
    KMS_ENCRYPTION,
    SESSION_TYPE,
    ActionStatus,
    HandshakeResponse,
    challenge_payload,
    handshake_complete_payload,
    unb64,
)
from fake_plugin.wire import (
    ClientMessage,
    PayloadType,
)

__all__ = ["HandshakeSteps"]


class HandshakeSteps:
    """The handshake's steps, on the session's state (declared here, set by the session)."""

    session_id: str
    spec: SessionSpec | None
    config: AgentConfig
    phase: Phase
    transcript: Transcript
    _cipher: SessionCipher | None
    _hs: HandshakeState
    _deferred: Callable[[float], None] | None

    def _send(self, payload_type: int, payload: bytes, now: float) -> int | None:
        raise NotImplementedError  # the session's

    def _close_channel(
        self, now: float, outcome: SessionOutcome, output: str, **details: Any
    ) -> None:
        raise NotImplementedError  # the session's

    def _start(self, now: float) -> None:
        raise NotImplementedError  # the session's

    def _on_handshake_response(self, message: ClientMessage, now: float) -> bool:
        if self.phase is not Phase.HANDSHAKE:
            self.transcript.decide(now, "unexpected-handshake-response", phase=self.phase.value)
            return True
        try:
            response = HandshakeResponse.parse(message.json())
        except (ValueError, AttributeError, TypeError) as exc:
            # datachannel.go:856-859: the handler fails, the message stays unacked.
            self.transcript.decide(now, "handshake-response-unparsable", error=str(exc))
            return False
        hs = self._hs
        hs.response = response
        self.transcript.client["handshake_client_version"] = response.client_version
        assert self.spec is not None
        for index, action in enumerate(response.actions):
            self.transcript.decide(
                now,
                "client-action",
                action_type=action.action_type,
                status=action.status,
                error=action.error,
                result=_redact_result(action.result),
            )
            if action.status == ActionStatus.SUCCESS and action.action_type == KMS_ENCRYPTION:
                blob = _ciphertext_of(action.result)
                hs.kms_requests.append(
                    (
                        index,
                        KmsRequest(
                            key_id=self.spec.kms_key_id or "",
                            region=self.spec.region,
                            ciphertext=blob,
                            context={
                                "aws:ssm:SessionId": self.session_id,
                                "aws:ssm:TargetId": self.spec.target,
                            },
                        ),
                    )
                )
        if response.errors:
            # Errors[] is ignored by the agent (datachannel.go:854-889); kept for the record.
            self.transcript.decide(now, "client-errors-ignored", errors=list(response.errors))
        # The agent acks the response once its handler returned: the ack goes out now, the
        # KMS call (if any) and the rest of the handling happen before the next frame.
        if hs.kms_requests:
            self.phase = Phase.KMS
            return True
        self._deferred = self._finish_handshake_response
        return True

    def _finish_handshake_response(self, now: float) -> None:
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
                result = hs.kms_results[index]
                if result.plaintext is None:
                    assert result.sdk_error is not None
                    text = texts.data_key_failed(result.sdk_error)
                    error = ("kms-decrypt-failed", text)
                elif len(result.plaintext) != 64:
                    size = max(len(result.plaintext) - 32, 0)
                    text = (
                        "Fetching data key failed: Error creating NewCipher, "
                        f"crypto/aes: invalid key size {size}"
                    )
                    error = ("kms-decrypt-failed", text)
                else:
                    self._cipher = SessionCipher(result.plaintext, role="agent")
            elif action.action_type == SESSION_TYPE:
                pass
            else:
                self.transcript.decide(now, "unknown-client-action", action_type=action.action_type)
        if error is not None:
            self._fail_handshake(now, error[0], error[1])
            return
        if hs.encryption:
            self._send_challenge(now)
            return
        self._complete_handshake(now)

    def _send_challenge(self, now: float) -> None:
        hs = self._hs
        hs.deadline = now + self.config.handshake_timeout_s
        self.phase = Phase.CHALLENGE
        if self._cipher is None:
            # The client returned no KMSEncryption action; the real agent would try to encrypt
            # with no key. We record it and let the challenge time out.
            self.transcript.decide(now, "challenge-not-sent", reason="no data key from client")
            hs.challenge_error = "no KMSEncryption action in the HandshakeResponse"
            return
        self.transcript.encrypted = True
        hs.challenge = os.urandom(ENC_CHALLENGE_BYTES)
        self.transcript.decide(now, "challenge-sent")
        encrypted = self._cipher.encrypt(hs.challenge)
        self._send(PayloadType.ENC_CHALLENGE_REQUEST, challenge_payload(encrypted), now)

    def _on_challenge_response(self, message: ClientMessage, now: float) -> bool:
        """datachannel.go:892-916. On failure the handler returns an error *without* signalling
        the waiting PerformHandshake, so the message stays unacked and the user sees only
        ``Timed out waiting for encryption challenge.`` after the timeout."""
        hs = self._hs
        if self.phase is not Phase.CHALLENGE or self._cipher is None:
            self.transcript.decide(now, "unexpected-challenge-response", phase=self.phase.value)
            return True
        try:
            answer = self._cipher.decrypt(unb64(str(message.json()["Challenge"])))
        except (ValueError, KeyError, TypeError, DecryptError) as exc:
            reason = f"Error decrypting encrypted text: {exc}"
        else:
            if answer == hs.challenge:
                self.transcript.challenge = "passed"
                self.transcript.decide(now, "challenge-passed")
                self._deferred = self._complete_handshake
                return True
            reason = texts.CHALLENGE_MISMATCH
        if hs.challenge_error is None:
            self.transcript.challenge = "failed"
            self.transcript.decide(now, "challenge-failed", reason=reason)
        hs.challenge_error = reason
        return False

    def _complete_handshake(self, now: float) -> None:
        hs = self._hs
        message = texts.ENCRYPTED_CUSTOMER_MESSAGE if self._cipher is not None else ""
        took_ns = int((now - hs.sent_at) * 1e9)
        hs.complete_seq = self._send(
            PayloadType.HANDSHAKE_COMPLETE, handshake_complete_payload(took_ns, message), now
        )
        self.transcript.handshake = "complete"
        assert self.spec is not None
        self.transcript.decide(
            now,
            "handshake-complete",
            customer_message=message,
            session_type_confirmed=self.spec.session_type,
        )
        self.phase = Phase.READY
        if self.spec.session_type == "Port":
            self._start(now)
        else:
            # PerformHandshake returns and the shell plugin starts its pty (shell.go:177-260).
            hs.plugin_ready_at = now + self.config.shell_start_s

    def _fail_handshake(self, now: float, outcome: SessionOutcome, error: str) -> None:
        self.transcript.handshake = "failed"
        self.transcript.decide(now, "handshake-failed", outcome=outcome, error=error)
        self._close_channel(now, outcome, texts.handshake_failed_output(error))


def _ciphertext_of(result: Any) -> bytes | None:
    """``KMSCipherTextKey`` as Go's json would give it: nil when absent/null, else base64."""
    if not isinstance(result, dict):
        return None
    value = result.get("KMSCipherTextKey")
    if value is None:
        return None
    try:
        return unb64(str(value))
    except ValueError:
        return None


def _redact_result(result: Any) -> Any:
    """ActionResult for the transcript: the ciphertext key shortened to its length."""
    if isinstance(result, dict) and isinstance(result.get("KMSCipherTextKey"), str):
        shown = dict(result)
        shown["KMSCipherTextKey"] = f"<{len(result['KMSCipherTextKey'])} base64 chars>"
        return shown
    return result
