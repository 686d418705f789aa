"""The handshake payloads (PayloadTypes 5-9) as JSON bodies, shared by plugin and agent.

Field names and shapes: docs/plugin.md §3.5 (``SMP:src/message/handshakemessage.go:39-101``).
Go marshals ``[]byte`` as standard base64 and nil slices/pointers as ``null``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from fake_plugin.wire import go_json

SESSION_TYPE = "SessionType"
KMS_ENCRYPTION = "KMSEncryption"
#: SessionType values the plugin accepts (streaming.go:871-887, config.go:42-45).
SHELL_SESSION_TYPES = ("Standard_Stream", "InteractiveCommands", "NonInteractiveCommands")
PORT_SESSION_TYPE = "Port"


class ActionStatus(IntEnum):
    """``ProcessedClientAction.ActionStatus`` (handshakemessage.go)."""

    SUCCESS = 1
    FAILED = 2
    UNSUPPORTED = 3


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


@dataclass(frozen=True)
class RequestedAction:
    """One entry of ``RequestedClientActions``."""

    action_type: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class HandshakeRequest:
    """Agent -> plugin, PayloadType 5."""

    agent_version: str
    actions: tuple[RequestedAction, ...]

    def payload(self) -> bytes:
        return go_json(
            {
                "AgentVersion": self.agent_version,
                "RequestedClientActions": [
                    {"ActionType": a.action_type, "ActionParameters": a.parameters}
                    for a in self.actions
                ],
            }
        )

    @classmethod
    def parse(cls, body: Any) -> HandshakeRequest:
        actions = tuple(
            RequestedAction(str(a.get("ActionType", "")), a.get("ActionParameters") or {})
            for a in body.get("RequestedClientActions") or ()
        )
        return cls(str(body.get("AgentVersion", "")), actions)


@dataclass(frozen=True)
class ProcessedAction:
    """One entry of ``ProcessedClientActions``; ``result`` is ``ActionResult`` (or None)."""

    action_type: str
    status: int
    result: Any = None
    error: str = ""


@dataclass(frozen=True)
class HandshakeResponse:
    """Plugin -> agent, PayloadType 6. ``client_version`` is always present here."""

    client_version: str
    actions: tuple[ProcessedAction, ...]
    errors: tuple[str, ...] = field(default=())

    def payload(self) -> bytes:
        return go_json(
            {
                "ClientVersion": self.client_version,
                "ProcessedClientActions": [
                    {
                        "ActionType": a.action_type,
                        "ActionStatus": a.status,
                        "ActionResult": a.result,
                        "Error": a.error,
                    }
                    for a in self.actions
                ],
                "Errors": list(self.errors) or None,
            }
        )

    @classmethod
    def parse(cls, body: Any) -> HandshakeResponse:
        actions = tuple(
            ProcessedAction(
                str(a.get("ActionType", "")),
                int(a.get("ActionStatus") or 0),
                a.get("ActionResult"),
                str(a.get("Error") or ""),
            )
            for a in body.get("ProcessedClientActions") or ()
        )
        return cls(str(body.get("ClientVersion", "")), actions, tuple(body.get("Errors") or ()))


def kms_action_result(ciphertext_key: bytes) -> dict[str, Any]:
    """``ActionResult`` of a successful KMSEncryption action (observed, §3.5)."""
    return {"KMSCipherTextKey": b64(ciphertext_key), "KMSCipherTextHash": None}


def challenge_payload(challenge: bytes) -> bytes:
    """EncChallengeRequest (8) and EncChallengeResponse (9): ``{"Challenge": base64}``."""
    return go_json({"Challenge": b64(challenge)})


def handshake_complete_payload(time_to_complete_ns: int, customer_message: str) -> bytes:
    """HandshakeComplete (7): the plugin prints a non-empty CustomerMessage with Println."""
    return go_json(
        {"HandshakeTimeToComplete": time_to_complete_ns, "CustomerMessage": customer_message}
    )


#: What the agent sends as CustomerMessage when encryption is on (datachannel.go:1051-1053).
ENCRYPTED_CUSTOMER_MESSAGE = "This session is encrypted using AWS KMS."
