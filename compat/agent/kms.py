"""The agent's KMS ``Decrypt`` of the client's data key: a real HTTP call to moto."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from compat.agent import texts

#: Static fake credentials; moto does not check signatures.
_FAKE_KEY_ID = "AKIAFAKESSMAGENT0000"
_FAKE_SECRET = "fake-secret-for-the-fake-ssm-agent"


@dataclass(frozen=True)
class KmsRequest:
    """``kms:Decrypt`` as the agent calls it (AGENT@1c217c89:agent/session/crypto/kmsservice.go:
    71-76): the client's ciphertext (``None`` when Go would see a nil slice), the session's
    key id, and the encryption context the *agent* builds (blockcipher.go:85-97)."""

    key_id: str
    region: str
    ciphertext: bytes | None
    context: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KmsResult:
    """The plaintext data key, or the agent's error text and the raw error for the transcript."""

    plaintext: bytes | None
    #: The text the agent puts after ``Error when decrypting data key`` (texts.sdk_error).
    sdk_error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class KmsDecryptor:
    """Calls moto's KMS with boto3; one cached client per region (clients are thread-safe)."""

    def __init__(self, endpoint_url: str | None) -> None:
        self.endpoint_url = endpoint_url
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, region: str) -> Any:
        with self._lock:
            client = self._clients.get(region)
            if client is None:
                # Deferred: only sessions with a KMS key need boto3 (~0.3 s to import).
                import boto3  # noqa: PLC0415
                from botocore.config import Config  # noqa: PLC0415

                client = boto3.session.Session(
                    aws_access_key_id=_FAKE_KEY_ID,
                    aws_secret_access_key=_FAKE_SECRET,
                    region_name=region,
                ).client(
                    "kms",
                    endpoint_url=self.endpoint_url,
                    # No retries, no proxies from the environment: one call, straight to moto.
                    config=Config(
                        retries={"max_attempts": 1, "mode": "standard"},
                        proxies={},
                        connect_timeout=5,
                        read_timeout=15,
                    ),
                )
                self._clients[region] = client
            return client

    def decrypt(self, request: KmsRequest) -> KmsResult:
        """One ``Decrypt``; every failure becomes the agent's text, never an exception."""
        if not request.ciphertext:
            # aws-sdk-go validates before sending (texts.missing_ciphertext_error).
            text = texts.missing_ciphertext_error(request.ciphertext is None)
            return KmsResult(None, text, {"code": "InvalidParameter", "sent": False})
        if self.endpoint_url is None:
            text = "NoEndpoint: the fake agent was started without a KMS endpoint"
            return KmsResult(None, text, {"code": "NoEndpoint", "sent": False})
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            response = self._client(request.region).decrypt(
                CiphertextBlob=request.ciphertext,
                EncryptionContext=request.context,
                KeyId=request.key_id,
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            meta = exc.response.get("ResponseMetadata", {})
            code = str(error.get("Code", ""))
            message = str(error.get("Message", "") or "")
            status = int(meta.get("HTTPStatusCode", 0))
            request_id = str(meta.get("RequestId", ""))
            detail = {"code": code, "message": message, "status_code": status}
            detail["request_id"] = request_id
            return KmsResult(None, texts.sdk_error(code, message, status, request_id), detail)
        except BotoCoreError as exc:
            # Approximates aws-sdk-go's RequestError text for a transport failure.
            text = f"RequestError: send request failed\ncaused by: {exc}"
            return KmsResult(None, text, {"code": "RequestError", "message": str(exc)})
        plaintext = bytes(response["Plaintext"])
        return KmsResult(plaintext, None, {"key_id": response.get("KeyId")})
