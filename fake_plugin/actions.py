"""The plugin's answer to a HandshakeRequest: each requested action, as streaming.go decides it.

``ProcessHandshakeRequest`` (``SMP:src/datachannel/streaming.go``, docs/plugin.md §3.4) walks
the agent's actions in order: ``KMSEncryption`` asks KMS for a data key (or fails with the
release's legacy text), ``SessionType`` picks the shell or port handler, anything else is an
"Unsupported action" whose code lands in ``ActionResult`` while ``ActionStatus`` stays 0
(``:478-482``). Apart from :mod:`fake_plugin.datachannel` so that the channel's sequencing
and the handshake's decisions each read on their own; no I/O and no state here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fake_plugin.errors import KmsError
from fake_plugin.handshake import (
    KMS_ENCRYPTION,
    PORT_SESSION_TYPE,
    SESSION_TYPE,
    SHELL_SESSION_TYPES,
    ActionStatus,
    HandshakeRequest,
    HandshakeResponse,
    ProcessedAction,
    kms_action_result,
)

#: config.go ShellPluginName: every shell-like SessionType is stored as this.
SHELL = "Standard_Stream"


def get_ci(body: Any, key: str) -> Any:
    """Go ``encoding/json`` field lookup: exact name first, then case-insensitive."""
    if not isinstance(body, dict):
        return None
    if key in body:
        return body[key]
    for name, value in body.items():
        if name.lower() == key.lower():
            return value
    return None


def answer(
    request: HandshakeRequest,
    client_version: str,
    *,
    kms_action: Callable[[Any], bytes],
    on_session_type: Callable[[str, Any], None],
) -> HandshakeResponse:
    """The HandshakeResponse to ``request``.

    ``kms_action`` gets a KMSEncryption action's parameters and returns the data key's
    ciphertext, or raises :class:`KmsError`; ``on_session_type`` gets the session type as the
    plugin stores it and the action's ``Properties``, at the point the real loop sets them.
    """
    actions: list[ProcessedAction] = []
    errors: list[str] = []
    for action in request.actions:
        kind = action.action_type
        if kind == KMS_ENCRYPTION:
            try:
                ciphertext = kms_action(action.parameters)
            except KmsError as exc:
                actions.append(_failed(kind, str(exc)))
                errors.append(str(exc))
            else:
                actions.append(
                    ProcessedAction(kind, ActionStatus.SUCCESS, kms_action_result(ciphertext))
                )
        elif kind == SESSION_TYPE:
            session_type = get_ci(action.parameters, "SessionType")
            session_type = session_type if isinstance(session_type, str) else ""
            if session_type in SHELL_SESSION_TYPES or session_type == PORT_SESSION_TYPE:
                stored = SHELL if session_type != PORT_SESSION_TYPE else session_type
                on_session_type(stored, get_ci(action.parameters, "Properties"))
                actions.append(ProcessedAction(kind, ActionStatus.SUCCESS))
            else:
                error = f"Unknown session type {session_type}"
                actions.append(_failed(kind, error))
                errors.append(error)
        else:
            # The quirk: Unsupported lands in ActionResult, ActionStatus stays 0.
            error = f"Unsupported action {kind}"
            actions.append(ProcessedAction(kind, 0, int(ActionStatus.UNSUPPORTED), error))
            errors.append(error)
    return HandshakeResponse(client_version, tuple(actions), tuple(errors))


def _failed(kind: str, error: str) -> ProcessedAction:
    """A failed action: ``Failed to process action <type>: <error>`` as its error."""
    return ProcessedAction(
        kind, ActionStatus.FAILED, None, f"Failed to process action {kind}: {error}"
    )
