"""The session registry: what moto's StartSession/ExecuteCommand promised, for the agent to demand.

It lives with the agent, the lower layer: the fake AWS (``compat.fakeaws``) starts the agent and
fills the registry, the agent only reads it, so the arrow points one way. moto's patched
operations (``compat.fakeaws.moto_ext``) add a :class:`SessionSpec` here; the fake agent looks it
up by the session id in the stream URL, checks the token, and asks the plugin for exactly what a
real agent would: the session type and, when a key is configured, KMS encryption with the target
it expects as ``aws:ssm:TargetId`` (docs/plugin.md §2.3, §3.4).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

from compat.agent.errors import UnknownSessionError

#: Agent plugin names as sent in the handshake's SessionType action (docs/plugin.md §3.4).
SessionType = Literal["Standard_Stream", "InteractiveCommands", "NonInteractiveCommands", "Port"]


@dataclass(frozen=True)
class SessionSpec:
    """One session as the control plane created it; everything the agent must enforce."""

    session_id: str
    token_value: str
    #: "ecs" for ECS ExecuteCommand, "ssm" for SSM StartSession.
    kind: Literal["ecs", "ssm"]
    #: What the agent knows as its InstanceId, hence the ``aws:ssm:TargetId`` it decrypts with:
    #: ``ecs:<cluster>_<taskId>_<runtimeId>`` or an instance id.
    target: str
    region: str
    account_id: str
    session_type: SessionType
    #: KMS key the agent requests (cluster ``executeCommandConfiguration.kmsKeyId`` or Session
    #: Manager preferences ``inputs.kmsKeyId``); ``None``: no encryption. Never set for Port.
    kms_key_id: str | None = None
    #: SSM document name (``None`` for the default shell / ECS exec).
    document_name: str | None = None
    #: SSM StartSession ``Parameters`` (name -> list of values).
    parameters: dict[str, list[str]] = field(default_factory=dict)
    #: The command to run (ECS ExecuteCommand ``command``, or InteractiveCommands ``command``).
    command: str | None = None
    #: Handshake ``SessionType.Properties`` (port sessions), or ``None``.
    properties: dict[str, str] | None = None
    status: Literal["Connected", "Terminated"] = "Connected"
    #: Who started it (the caller's access key id), to attribute a session to a matrix cell.
    access_key_id: str | None = None
    #: Epoch seconds of StartSession/ExecuteCommand and of TerminateSession (DescribeSessions).
    started_at: float = 0.0
    ended_at: float | None = None
    #: The caller's ARN as DescribeSessions reports it (``Owner``).
    owner: str | None = None
    #: StartSession ``Reason``.
    reason: str | None = None
    #: Every ResumeSession call for this session, in order (see :class:`ResumeCall`).
    resumes: tuple[ResumeCall, ...] = ()
    #: The agent closes the websocket once mid-session and waits for the resumed connection
    #: (the ``reconnect`` scenario; set at creation from :attr:`SessionRegistry.drop_once`).
    drop_websocket_once: bool = False


@dataclass(frozen=True)
class ResumeCall:
    """One ResumeSession request: where it arrived, and whether it was answered."""

    #: ``host:port`` the request was sent to (the SSM endpoint, or ECS's port).
    endpoint: str
    #: The new token, or ``None`` when the call was refused.
    token_value: str | None
    #: ``Code: message`` of the refusal, else ``None``.
    error: str | None = None
    at: float = 0.0


class SessionRegistry:
    """Thread-safe map of session id -> :class:`SessionSpec`, shared by moto and the agent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, SessionSpec] = {}
        #: Base of every stream URL, e.g. ``ws://127.0.0.1:PORT``; set when the agent starts.
        self.agent_url = "ws://127.0.0.1:9"
        #: ``host:port`` of the SSM endpoint: ResumeSession is answered only there, as AWS
        #: answers it only at ``ssm.<region>.amazonaws.com`` (empty: anywhere, e.g. in tests).
        self.ssm_hosts: frozenset[str] = frozenset()
        #: Access key ids whose next sessions get a websocket dropped once (``reconnect``).
        self.drop_once: set[str] = set()
        #: Access key id -> the operations (``service:Operation``) the fake AWS answered with
        #: "unknown operation", in order, once each.
        self._unsupported: dict[str, list[str]] = {}

    def stream_url(self, session_id: str) -> str:
        """The URL a client dials, shaped like the real one (``/v1/data-channel/<sid>``)."""
        return f"{self.agent_url}/v1/data-channel/{session_id}?role=publish_subscribe"

    def add(self, spec: SessionSpec) -> None:
        with self._lock:
            self._sessions[spec.session_id] = spec

    def get(self, session_id: str) -> SessionSpec:
        with self._lock:
            try:
                return self._sessions[session_id]
            except KeyError:
                raise UnknownSessionError(session_id) from None

    def update(self, session_id: str, **changes: object) -> SessionSpec:
        """Replace fields of a session (e.g. a new token on ResumeSession, status on Terminate)."""
        with self._lock:
            try:
                spec = replace(self._sessions[session_id], **changes)  # type: ignore[arg-type]
            except KeyError:
                raise UnknownSessionError(session_id) from None
            self._sessions[session_id] = spec
            return spec

    def record_resume(self, session_id: str, call: ResumeCall) -> SessionSpec:
        """Append a ResumeSession call to the session (and its new token, if answered)."""
        with self._lock:
            try:
                spec = self._sessions[session_id]
            except KeyError:
                raise UnknownSessionError(session_id) from None
            token = call.token_value or spec.token_value
            spec = replace(spec, resumes=(*spec.resumes, call), token_value=token)
            self._sessions[session_id] = spec
            return spec

    def resume_calls(self, access_key_id: str) -> list[dict[str, object]]:
        """The ResumeSession calls for the sessions ``access_key_id`` started, as dicts."""
        with self._lock:
            specs = [s for s in self._sessions.values() if s.access_key_id == access_key_id]
        return [asdict(call) for spec in specs for call in spec.resumes]

    def record_unsupported(self, access_key_id: str, operation: str) -> None:
        """The fake AWS could not answer ``operation`` for this key (moto lacks it)."""
        with self._lock:
            seen = self._unsupported.setdefault(access_key_id, [])
            if operation not in seen:
                seen.append(operation)

    def unsupported(self, access_key_id: str) -> list[str]:
        """The operations this key called that the fake AWS does not implement."""
        with self._lock:
            return list(self._unsupported.get(access_key_id, ()))

    def __iter__(self) -> Iterator[SessionSpec]:
        with self._lock:
            return iter(list(self._sessions.values()))

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()
            self.drop_once.clear()
            self._unsupported.clear()
