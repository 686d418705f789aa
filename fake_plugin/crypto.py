"""AES-256-GCM with the 64-byte KMS data key split in halves, as plugin and agent use it.

docs/plugin.md §3.6: the first half encrypts agent -> client, the second half client -> agent
(``SMP:src/encryption/encrypter.go:63-66,95-137``; ``AGENT:agent/session/crypto/blockcipher.go``).
Wire form: ``nonce(12) || ciphertext || tag(16)``, no associated data.
"""

from __future__ import annotations

import os
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fake_plugin.errors import DecryptError

DATA_KEY_BYTES = 64
NONCE_BYTES = 12


class SessionCipher:
    """One end's view of the data key: what it encrypts with and what it decrypts with."""

    def __init__(self, data_key: bytes, role: Literal["client", "agent"]) -> None:
        if len(data_key) != DATA_KEY_BYTES:
            raise ValueError(f"data key must be {DATA_KEY_BYTES} bytes, got {len(data_key)}")
        agent_to_client, client_to_agent = data_key[:32], data_key[32:]
        if role == "client":
            self._encrypt, self._decrypt = AESGCM(client_to_agent), AESGCM(agent_to_client)
        else:
            self._encrypt, self._decrypt = AESGCM(agent_to_client), AESGCM(client_to_agent)

    def encrypt(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._encrypt.encrypt(nonce, plaintext, None)

    def decrypt(self, blob: bytes) -> bytes:
        if len(blob) < NONCE_BYTES + 16:
            raise DecryptError(f"encrypted payload of {len(blob)} bytes is too short")
        try:
            return self._decrypt.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], None)
        except InvalidTag as exc:
            raise DecryptError("payload does not decrypt with the session's data key") from exc
