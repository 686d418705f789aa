"""The client's data key, from its KMSEncryption action result to the session's cipher.

The KMS half of the handshake (docs/plugin.md §3.5-§3.6), sans I/O: the ``kms:Decrypt`` the agent
asks its I/O layer for, with the encryption context the *agent* builds (blockcipher.go:85-97),
and what the agent makes of the answer (datachannel.go:861-884).
"""

from __future__ import annotations

from typing import Any

from compat.agent import texts
from compat.agent.kms import KmsRequest, KmsResult
from compat.agent.sessions import SessionSpec
from fake_plugin.crypto import SessionCipher
from fake_plugin.handshake import unb64

__all__ = ["cipher_or_error", "decrypt_record", "decrypt_request", "redact_result"]

#: KMS GenerateDataKey gives 64 bytes: one AES-256 key each way (docs/plugin.md §3.6).
DATA_KEY_BYTES = 64


def decrypt_request(spec: SessionSpec, session_id: str, result: Any) -> KmsRequest:
    """The agent's ``Decrypt`` of the ciphertext in one successful KMSEncryption result."""
    return KmsRequest(
        key_id=spec.kms_key_id or "",
        region=spec.region,
        ciphertext=_ciphertext_of(result),
        context={"aws:ssm:SessionId": session_id, "aws:ssm:TargetId": spec.target},
    )


def decrypt_record(request: KmsRequest, result: KmsResult) -> dict[str, Any]:
    """The transcript's ``kms-decrypt`` decision: what was asked and what came back."""
    return {
        "key_id": request.key_id,
        "region": request.region,
        "encryption_context": request.context,
        "ok": result.plaintext is not None,
        "error": result.sdk_error,
        "detail": result.detail,
    }


def cipher_or_error(result: KmsResult) -> SessionCipher | str:
    """The session's cipher, or the agent's text for a data key it cannot use."""
    if result.plaintext is None:
        assert result.sdk_error is not None
        return texts.data_key_failed(result.sdk_error)
    if len(result.plaintext) != DATA_KEY_BYTES:
        size = max(len(result.plaintext) - 32, 0)
        return (
            "Fetching data key failed: Error creating NewCipher, "
            f"crypto/aes: invalid key size {size}"
        )
    return SessionCipher(result.plaintext, role="agent")


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


def redact_result(result: Any) -> Any:
    """ActionResult for the transcript: the ciphertext key shortened to its length."""
    if isinstance(result, dict) and isinstance(result.get("KMSCipherTextKey"), str):
        shown = dict(result)
        shown["KMSCipherTextKey"] = f"<{len(result['KMSCipherTextKey'])} base64 chars>"
        return shown
    return result
