"""SSM session documents: which agent plugin a StartSession runs, with what properties."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from compat.agent.sessions import SessionType
from compat.fakeaws.errors import DocumentError

#: The Session Manager preferences document; its ``inputs.kmsKeyId`` encrypts shell sessions
#: (AWS docs, "Enable KMS key encryption of session data"; docs/plugin.md §3.4).
PREFERENCES_DOCUMENT = "SSM-SessionManagerRunShell"
#: The document ECS ExecuteCommand starts; the agent runs it with its ``InteractiveCommands``
#: plugin (aws/session-manager-plugin#49: "Plugin with name InteractiveCommands not found.
#: Step name: InteractiveCommands" during ``aws ecs execute-command``).
ECS_EXEC_DOCUMENT = "AmazonECS-ExecuteInteractiveCommand"

#: allowedPattern of the AWS documents' port parameters (localPortNumber also allows 0).
_PORT_TAIL = (
    r"[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$"
)
_PORT = r"^([1-9]|" + _PORT_TAIL
_LOCAL_PORT = r"^([0-9]|" + _PORT_TAIL


@dataclass(frozen=True)
class _Param:
    default: str | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class _Builtin:
    session_type: SessionType
    params: Mapping[str, _Param]
    #: Port properties template: property -> parameter name, or a literal prefixed with "=".
    properties: Mapping[str, str] | None = None


#: The AWS-owned session documents callers use (content as published in each region's
#: ``aws ssm get-document``; the agent passes a Port document's ``properties`` through as the
#: handshake's SessionType Properties, amazon-ssm-agent ``agent/session/plugins/port/port.go``).
_BUILTINS: dict[str, _Builtin] = {
    PREFERENCES_DOCUMENT: _Builtin("Standard_Stream", {}),
    "AWS-StartInteractiveCommand": _Builtin("InteractiveCommands", {"command": _Param()}),
    "AWS-StartNonInteractiveCommand": _Builtin("NonInteractiveCommands", {"command": _Param()}),
    "AWS-StartPortForwardingSession": _Builtin(
        "Port",
        {"portNumber": _Param("80", _PORT), "localPortNumber": _Param("0", _LOCAL_PORT)},
        {
            "portNumber": "portNumber",
            "type": "=LocalPortForwarding",
            "localPortNumber": "localPortNumber",
        },
    ),
    "AWS-StartPortForwardingSessionToRemoteHost": _Builtin(
        "Port",
        {
            "host": _Param(),
            "portNumber": _Param("80", _PORT),
            "localPortNumber": _Param("0", _LOCAL_PORT),
        },
        {
            "host": "host",
            "portNumber": "portNumber",
            "type": "=LocalPortForwarding",
            "localPortNumber": "localPortNumber",
        },
    ),
    "AWS-StartSSHSession": _Builtin(
        "Port", {"portNumber": _Param("22", _PORT)}, {"portNumber": "portNumber"}
    ),
}
_SESSION_TYPES: tuple[SessionType, ...] = (
    "Standard_Stream",
    "InteractiveCommands",
    "NonInteractiveCommands",
    "Port",
)


@dataclass(frozen=True)
class SessionPlan:
    """What the agent will run for one StartSession."""

    #: ``None`` for the default shell.
    document_name: str | None
    session_type: SessionType
    #: Handshake ``SessionType.Properties`` for Port sessions, else ``None``.
    properties: dict[str, str] | None
    command: str | None
    parameters: dict[str, list[str]]
    #: The default shell takes its KMS key from the preferences document.
    uses_preferences: bool
    #: A custom document's own ``inputs.kmsKeyId`` (never for Port).
    kms_key_id: str | None = None


def is_builtin(document_name: str | None) -> bool:
    """Whether the fake knows the document without looking it up in SSM."""
    return document_name is None or document_name in _BUILTINS


def plan_session(
    document_name: str | None,
    parameters: Mapping[str, list[str]] | None,
    custom_content: Mapping[str, Any] | None = None,
) -> SessionPlan:
    """Resolve a StartSession's document and parameters, or raise :class:`DocumentError`.

    ``custom_content`` is the parsed content of a customer ``Session`` document found in SSM,
    for a name that is not one of the AWS-owned documents above.
    """
    given = {k: list(v) for k, v in (parameters or {}).items()}
    if is_builtin(document_name):
        builtin = _BUILTINS[document_name or PREFERENCES_DOCUMENT]
        values = _bind(document_name or PREFERENCES_DOCUMENT, builtin.params, given)
        properties = None
        if builtin.properties is not None:
            properties = {
                prop: source[1:] if source.startswith("=") else values[source]
                for prop, source in builtin.properties.items()
            }
        return SessionPlan(
            document_name=document_name,
            session_type=builtin.session_type,
            properties=properties,
            command=values.get("command"),
            parameters=given,
            uses_preferences=builtin.session_type == "Standard_Stream",
        )
    assert document_name is not None
    if custom_content is None:
        raise DocumentError("InvalidDocument", "The specified document does not exist.")
    return _plan_custom(document_name, custom_content, given)


def _bind(
    document: str, declared: Mapping[str, _Param], given: Mapping[str, list[str]]
) -> dict[str, str]:
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise DocumentError(
            "InvalidParameters",
            f'Parameter "{unknown[0]}" is not defined in document "{document}".',
        )
    values: dict[str, str] = {}
    for name, param in declared.items():
        supplied = given.get(name)
        value = supplied[0] if supplied else param.default
        if value is None:
            raise DocumentError(
                "InvalidParameters", f'Parameter "{name}" is required by document "{document}".'
            )
        if param.pattern and not re.match(param.pattern, value):
            # Shape of the real text: 'Parameter "host" has value "..." not matching "..."'.
            raise DocumentError(
                "InvalidParameters",
                f'Parameter "{name}" has value "{value}" not matching "{param.pattern}".',
            )
        values[name] = value
    return values


def _plan_custom(name: str, content: Mapping[str, Any], given: dict[str, list[str]]) -> SessionPlan:
    session_type = content.get("sessionType")
    if session_type not in _SESSION_TYPES:
        raise DocumentError("InvalidDocument", f"Document {name} is not a Session document.")
    declared_raw = content.get("parameters") or {}
    declared = {
        pname: _Param(
            None if spec.get("default") is None else str(spec.get("default")),
            spec.get("allowedPattern"),
        )
        for pname, spec in cast(dict[str, dict[str, Any]], declared_raw).items()
    }
    values = _bind(name, declared, given)

    def fill(text: str) -> str:
        return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: values.get(m.group(1), m.group(0)), text)

    raw_props = content.get("properties") or {}
    properties = None
    command = values.get("command")
    if session_type == "Port":
        properties = {k: fill(str(v)) for k, v in raw_props.items() if not isinstance(v, dict)}
    elif isinstance(raw_props.get("linux"), dict) and "commands" in raw_props["linux"]:
        command = fill(str(raw_props["linux"]["commands"]))
    inputs = content.get("inputs") or {}
    kms = inputs.get("kmsKeyId") if session_type != "Port" else None
    return SessionPlan(
        document_name=name,
        session_type=cast(SessionType, session_type),
        properties=properties,
        command=command,
        parameters=given,
        uses_preferences=False,
        kms_key_id=str(kms) if kms else None,
    )
