"""moto's SSM with sessions: StartSession, ResumeSession, TerminateSession, DescribeSessions."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, datetime
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends
from moto.ecs.models import ecs_backends
from moto.ssm.models import ssm_backends

from compat.agent.errors import UnknownSessionError
from compat.agent.sessions import ResumeCall, SessionRegistry, SessionSpec
from compat.fakeaws import documents, ids
from compat.fakeaws.errors import DocumentError
from compat.fakeaws.moto_base import (
    PRINCIPAL,
    AwsError,
    caller_key,
    originals,
    owner,
    require_registry,
)
from compat.fakeaws.moto_ecs import agent_running, find_task

__all__ = [
    "NOT_SSM_ENDPOINT",
    "describe_sessions",
    "ecs_dispatch",
    "resume_session",
    "start_session",
    "terminate_session",
]

#: What a service answers a request signed for another one (the wording AWS uses, e.g. for
#: Batch in cllunsford/aws-signing-proxy#25); ResumeSession sent to ECS's endpoint gets it.
NOT_SSM_ENDPOINT = "Credential should be scoped to correct service: 'ecs'. "


def _not_connected(target: str) -> ServiceException:
    # Real text: "An error occurred (TargetNotConnected) when calling the StartSession
    # operation: i-0850c1b15772106cc is not connected."
    return AwsError("TargetNotConnected", f"{target} is not connected.")


def _check_target(target: str, account_id: str, region: str) -> None:
    """An EC2 instance that is running, or ``ecs:<cluster>_<taskId>_<runtimeId>`` of a running
    task container whose exec agent runs (the ECS target of docs/plugin.md §2.3)."""
    if target.startswith("ecs:"):
        parts = target[4:].rsplit("_", 2)
        if len(parts) == 3:
            cluster_name, task_id, runtime = parts
            task = find_task(ecs_backends[account_id][region], cluster_name, task_id)
            if task is not None and task.last_status == "RUNNING":
                for container in task.containers:
                    if container.runtime_id == runtime and agent_running(container):
                        return
        raise _not_connected(target)
    try:
        instance = ec2_backends[account_id][region].get_instance(target)
    except Exception:  # moto raises its own InvalidInstanceID error class
        raise _not_connected(target) from None
    if instance.state != "running":
        raise _not_connected(target)


def _ssm_document(account_id: str, region: str, name: str) -> dict[str, Any] | None:
    """A document's parsed content from moto's SSM, or ``None`` when it does not exist."""
    try:
        backend: Any = ssm_backends[account_id][region]
        info = backend.get_document(name, None, None, "JSON")
    except ServiceException:
        return None
    if info.get("DocumentType") != "Session":
        return None
    content = json.loads(info["Content"])
    return content if isinstance(content, dict) else None


def _preferences_kms_key(account_id: str, region: str) -> str | None:
    content = _ssm_document(account_id, region, documents.PREFERENCES_DOCUMENT) or {}
    key = (content.get("inputs") or {}).get("kmsKeyId")
    return str(key) if key else None


def start_session(self: Any) -> Any:
    """SSM StartSession for EC2 and ECS targets; the KMS key is what the agent will demand."""
    target = str(self._get_param("Target") or "")
    document_name: str | None = self._get_param("DocumentName") or None
    account_id, region = self.current_account, self.region
    _check_target(target, account_id, region)
    custom = None
    if document_name is not None and not documents.is_builtin(document_name):
        custom = _ssm_document(account_id, region, document_name)
    try:
        plan = documents.plan_session(document_name, self._get_param("Parameters"), custom)
    except DocumentError as exc:
        raise AwsError(exc.code, exc.message) from None
    kms_key = _preferences_kms_key(account_id, region) if plan.uses_preferences else plan.kms_key_id
    if plan.session_type == "Port":  # sessionplugin.go isEncryptionEnabled: never for Port
        kms_key = None

    registry = require_registry()
    session_id = ids.ssm_session_id(PRINCIPAL)
    spec = SessionSpec(
        session_id=session_id,
        token_value=ids.token_value(),
        kind="ssm",
        target=target,
        region=region,
        account_id=account_id,
        session_type=plan.session_type,
        kms_key_id=kms_key,
        document_name=plan.document_name,
        parameters=plan.parameters,
        command=plan.command,
        properties=plan.properties,
        access_key_id=caller_key(self),
        drop_websocket_once=caller_key(self) in registry.drop_once,
        started_at=time.time(),
        owner=owner(account_id),
        reason=self._get_param("Reason"),
    )
    registry.add(spec)
    return ActionResult(
        {
            "SessionId": session_id,
            "TokenValue": spec.token_value,
            "StreamUrl": registry.stream_url(session_id),
        }
    )


def resume_session(self: Any) -> Any:
    """A new token for a live session (the plugin calls it after a websocket read error).

    Answered only at the SSM endpoint (``registry.ssm_hosts``): a plugin handed ECS's endpoint
    as argv[6] sends it to ECS, which does not serve SSM's API. Every call is recorded on the
    session. For a terminated session the answer has no TokenValue, the case the plugin
    reports as "Session: <sid> timed out." (docs/plugin.md §3.7).
    """
    registry = require_registry()
    session_id = str(self._get_param("SessionId") or "")
    host = str(self.headers.get("Host") or "")
    try:
        spec = registry.get(session_id)
    except UnknownSessionError:
        spec = None
    if not _is_ssm_endpoint(host, registry):
        return _not_ssm(host, session_id, "ResumeSession")
    if spec is None:
        raise AwsError("DoesNotExistException", f"Session {session_id} does not exist.")
    if spec.status == "Terminated":
        registry.record_resume(session_id, ResumeCall(host, None, None, time.time()))
        return ActionResult({"SessionId": session_id})
    token = ids.token_value()
    spec = registry.record_resume(session_id, ResumeCall(host, token, None, time.time()))
    return ActionResult(
        {
            "SessionId": session_id,
            "TokenValue": spec.token_value,
            "StreamUrl": registry.stream_url(session_id),
        }
    )


def _not_ssm(host: str, session_id: str, operation: str) -> tuple[int, dict[str, str], str]:
    """An SSM call sent to ECS: refused (403), and a ResumeSession recorded on its session.

    Serialized by hand: the code is no shape of SSM's or ECS's model (moto would warn), and
    AWS's front end answers it before any service sees the request.
    """
    code = "InvalidSignatureException"
    if operation == "ResumeSession":
        registry = require_registry()
        call = ResumeCall(host, None, f"{code}: {NOT_SSM_ENDPOINT}", time.time())
        with contextlib.suppress(UnknownSessionError):
            registry.record_resume(session_id, call)
    body = json.dumps({"__type": code, "message": NOT_SSM_ENDPOINT})
    return 403, {"Content-Type": "application/x-amz-json-1.1", "status": "403"}, body


def ecs_dispatch(self: Any, request: Any, full_url: str | None = None, headers: Any = None) -> Any:
    """An SSM call at an ECS host (the plugin's argv[6] through the proxy) is refused like at
    ECS's own port; moto would fail it looking the operation up in ECS's model."""
    fields = request.headers if headers is None else headers
    target = str(fields.get("X-Amz-Target") or "")
    if target.startswith("AmazonSSM."):
        try:
            body = json.loads(request.data or b"{}")
        except ValueError:
            body = {}
        sid = str(body.get("SessionId") or "") if isinstance(body, dict) else ""
        return _not_ssm(str(fields.get("Host") or ""), sid, target.split(".", 1)[1])
    return originals["ecs_dispatch"](self, request, full_url, headers)


def _is_ssm_endpoint(host: str, registry: SessionRegistry) -> bool:
    """SSM's local port, or ``ssm.<region>.amazonaws.com`` reached through the proxy."""
    if not registry.ssm_hosts or host in registry.ssm_hosts:
        return True
    name = host.rsplit(":", 1)[0].lower()
    return name.startswith("ssm.") and name.endswith((".amazonaws.com", ".amazonaws.com.cn"))


def terminate_session(self: Any) -> Any:
    """Idempotent, like the real API: the answer is the session id either way."""
    registry = require_registry()
    session_id = str(self._get_param("SessionId") or "")
    try:
        spec = registry.get(session_id)
    except UnknownSessionError:
        spec = None
    if spec is not None and spec.status != "Terminated":
        registry.update(session_id, status="Terminated", ended_at=time.time())
    return ActionResult({"SessionId": session_id})


_FILTER_KEYS = (
    "InvokedAfter",
    "InvokedBefore",
    "Target",
    "Owner",
    "Status",
    "SessionId",
    "AccessType",
)


def describe_sessions(self: Any) -> Any:
    """``State`` Active (Connected) or History (Terminated), with the documented filters."""
    registry = require_registry()
    state = self._get_param("State")
    if state not in ("Active", "History"):
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{state}' at 'state' failed to satisfy "
            "constraint: Member must satisfy enum value set: [Active, History]",
        )
    filters = self._get_param("Filters") or []
    for item in filters:
        if item.get("key") not in _FILTER_KEYS:
            raise AwsError("InvalidFilterKey", f"Invalid filter key: {item.get('key')}")
    wanted_status = "Connected" if state == "Active" else "Terminated"
    sessions = []
    for spec in registry:
        if (spec.account_id, spec.region) != (self.current_account, self.region):
            continue
        if spec.status != wanted_status or not all(_matches(spec, f) for f in filters):
            continue
        entry: dict[str, Any] = {
            "SessionId": spec.session_id,
            "Target": spec.target,
            "Status": spec.status,
            "StartDate": datetime.fromtimestamp(spec.started_at, UTC),
            "DocumentName": spec.document_name or documents.PREFERENCES_DOCUMENT,
            "Owner": spec.owner,
            "Reason": spec.reason,
        }
        if spec.ended_at is not None:
            entry["EndDate"] = datetime.fromtimestamp(spec.ended_at, UTC)
        sessions.append({k: v for k, v in entry.items() if v is not None})
    sessions.sort(key=lambda s: s["StartDate"], reverse=True)
    return ActionResult({"Sessions": sessions})


def _matches(spec: SessionSpec, item: dict[str, str]) -> bool:
    key, value = item.get("key"), str(item.get("value", ""))
    if key == "Target":
        return spec.target == value
    if key == "Owner":
        return spec.owner == value
    if key == "Status":
        return spec.status == value
    if key == "SessionId":
        return spec.session_id == value
    if key in ("InvokedAfter", "InvokedBefore"):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        return spec.started_at >= moment if key == "InvokedAfter" else spec.started_at <= moment
    return True  # AccessType: every fake session is Standard
