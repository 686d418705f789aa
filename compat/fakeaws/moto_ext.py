"""moto 5.2.5 extended in-process: ECS Exec, SSM sessions, and JSON errors for what it lacks."""

# This is the one module that touches moto's (untyped) internals. Mechanism (docs/ecosystem.md
# §1.2): ``BaseResponse.call_action`` dispatches ``camelcase_to_underscores(<Action>)`` to any
# function found on the Response class, and ``ActionResult`` serializes model attributes by
# the botocore output shape, so ``task.enable_execute_command`` comes out as
# ``enableExecuteCommand``. Patches therefore live on the existing Response classes and work
# for ``ThreadedMotoServer`` and the in-process proxy alike (not for a separate
# ``moto_server`` process). moto is pinned; :func:`verify_dispatch` fails loudly if an
# upgrade breaks the mechanism.

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import moto
from moto.core import errors as moto_errors
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import camelcase_to_underscores, method_names_from_class
from moto.ec2.models import ec2_backends
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.models import Container, Task, ecs_backends
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api import state_manager
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.ssm.models import ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse
from moto.utilities.utils import get_partition
from werkzeug.test import Client

from compat.agent.sessions import (
    ResumeCall,
    SessionRegistry,
    SessionSpec,
    UnknownSessionError,
)
from compat.fakeaws import documents, guard, ids, readonly

__all__ = [
    "EXEC_NOT_ENABLED",
    "PATCHED_OPERATIONS",
    "MotoServer",
    "PatchDispatchError",
    "bind",
    "install",
    "reset_backends",
    "set_managed_agent_status",
    "unbind",
    "verify_dispatch",
]

#: The real ECS text for exec disabled *or* the agent not running (InvalidParameterException;
#: quoted in e1s#206, alphagov/govuk-infrastructure#344 and many user reports, with U+2019).
#: The fake also answers it for a task that is no longer RUNNING: its agent is then stopped,
#: which is the second half of the sentence (no separate real text was found).
EXEC_NOT_ENABLED = (
    "The execute command failed because execute command was not enabled when the task was run"
    " or the execute command agent isn\u2019t running. Wait and try again or run a new task with"
    " execute command enabled and try again."
)
#: What a service answers a request signed for another one (the wording AWS uses, e.g. for
#: Batch in cllunsford/aws-signing-proxy#25); ResumeSession sent to ECS's endpoint gets it.
NOT_SSM_ENDPOINT = "Credential should be scoped to correct service: 'ecs'. "
#: ECS ExecuteCommand accepts ``interactive=true`` only ("Amazon ECS only supports initiating
#: interactive sessions", API_ExecuteCommand).
INTERACTIVE_ONLY = "Interactive is the only mode supported currently."
#: Real validation text for a malformed task id (Mic-U/ecsher#56).
TASK_ID_LENGTH = "task length should be one of [32,36]"
#: Real text for an unknown task (InvalidParameterException, as StopTask/DescribeTasks callers
#: see it).
TASK_NOT_FOUND = "The referenced task was not found."
#: Not verified against AWS (no public transcript found); worded after the API reference's
#: "A container name only needs to be specified for tasks containing multiple containers."
CONTAINER_REQUIRED = "Container name must be specified for tasks containing multiple containers."
CONTAINER_UNKNOWN = "The container {name} does not exist in the task."

#: Service -> the operations this module adds or changes (AWS operation names).
PATCHED_OPERATIONS: dict[str, tuple[str, ...]] = {
    "ecs": (
        "RunTask",
        "StartTask",
        "DescribeTasks",
        "CreateService",
        "UpdateService",
        "ExecuteCommand",
        "DiscoverPollEndpoint",
    ),
    "ssm": (
        "StartSession",
        "ResumeSession",
        "TerminateSession",
        "DescribeSessions",
        "DescribeInstanceInformation",
    ),
}
_CLASSES: dict[str, type] = {
    "ecs": EC2ContainerServiceResponse,
    "ssm": SimpleSystemManagerResponse,
}
#: moto's default caller identity (``sts get-caller-identity`` answers ``user/moto``).
_PRINCIPAL = "moto"
_MARK = "__smp_compat__"

_lock = threading.Lock()
_originals: dict[str, Callable[..., Any]] = {}
#: Whether the request this thread is answering is the kit's (signed with a key of
#: ``ids.fake_access_key_id``): ECS's shapes change for the kit's tasks only, so a suite's own
#: moto calls in the same process (``mock_aws``) keep moto's answers.
_request = threading.local()
#: The kit's tasks' own state model: they stay RUNNING, ``ecs::task`` keeps moto's default.
KIT_TASK_MODEL = "smp-compat::ecs-task"


class _Binding:
    """Where patched operations put sessions (one registry per process at a time)."""

    registry: SessionRegistry | None = None


class _AwsError(ServiceException):
    """An AWS error answer. Defined here, not in moto: moto looks an exception's code up in the
    service model named by the exception's *module*, and ``moto.core`` names no service."""


class PatchDispatchError(RuntimeError):
    """moto no longer dispatches an operation to our patch (an upgrade changed its internals)."""


def bind(registry: SessionRegistry) -> None:
    """Make sessions created by the patched operations land in ``registry``.

    moto's backends are process-wide, so there is one registry per process at a time.
    """
    _Binding.registry = registry


def unbind(registry: SessionRegistry) -> None:
    """Forget ``registry`` if it is the bound one (its FakeAWS stopped)."""
    if _Binding.registry is registry:
        _Binding.registry = None


def install(registry: SessionRegistry | None = None) -> None:
    """Patch moto's Response classes (idempotent) and optionally :func:`bind` a registry."""
    guard.install()
    with _lock:
        if not _originals:
            _patch()
    if registry is not None:
        bind(registry)


def _patch() -> None:
    for name in ("run_task", "start_task", "describe_tasks", "create_service", "update_service"):
        _originals[name] = getattr(EC2ContainerServiceResponse, name)
    _originals["call_action"] = BaseResponse.call_action
    _originals["ecs_dispatch"] = EC2ContainerServiceResponse._dispatch
    table: dict[type, dict[str, Callable[..., Any]]] = {
        EC2ContainerServiceResponse: {
            "run_task": _run_task,
            "start_task": _start_task,
            "describe_tasks": _describe_tasks,
            "create_service": _create_service,
            "update_service": _update_service,
            "execute_command": _execute_command,
            "discover_poll_endpoint": _discover_poll_endpoint,
            "_dispatch": _ecs_dispatch,
        },
        SimpleSystemManagerResponse: {
            "start_session": _start_session,
            "resume_session": _resume_session,
            "terminate_session": _terminate_session,
            "describe_sessions": _describe_sessions,
            "describe_instance_information": readonly.describe_instance_information,
        },
        BaseResponse: {"call_action": _call_action},
    }
    for cls, methods in table.items():
        for name, function in methods.items():
            setattr(function, _MARK, True)
            setattr(cls, name, function)
    # UnknownOperationException is in no service model; moto would warn on every such answer
    # (moto/core/errors.py get_error_model) unless the code is one it treats as common.
    if "UnknownOperationException" not in moto_errors.COMMON_ERROR_CODES:
        moto_errors.COMMON_ERROR_CODES.append("UnknownOperationException")
    # The kit's task ids are 32 hex digits, as ECS has minted them since the long ARN format
    # (moto uses a dashed UUID). Callers lean on the shape: aws-ssm-juggle takes the task id
    # back out of the Fargate runtimeId ``<taskId>-<digits>`` with ``split("-")[0]``
    # (docs/callers.md §1 row 11).
    _originals["task_init"] = Task.__init__
    Task.__init__ = _task_init  # type: ignore[method-assign]
    # The kit's tasks stay RUNNING until StopTask. moto's default for ``ecs::task`` is "manual,
    # times 1": the second DescribeTasks would show DEACTIVATING (moto docs:
    # configuration/state_transition). Their own model name leaves ``ecs::task`` to the suite.
    state_manager.register_default_transition(
        model_name=KIT_TASK_MODEL, transition={"progression": "manual", "times": sys.maxsize}
    )


def _kit_request() -> bool:
    return bool(getattr(_request, "kit", False))


def _task_init(self: Any, *args: Any, **kwargs: Any) -> None:
    _originals["task_init"](self, *args, **kwargs)
    if _kit_request():
        self.id = uuid.uuid4().hex
        self.model_name = KIT_TASK_MODEL


def _require_registry() -> SessionRegistry:
    if _Binding.registry is None:
        raise _AwsError(
            "InternalServerError", "smp-compat: no session registry is bound (moto_ext.bind)."
        )
    return _Binding.registry


def _caller_key(response: Any) -> str | None:
    return ids.access_key_id(response.headers.get("Authorization"))


# --- JSON errors for everything moto does not implement ---------------------------------


#: moto's backends are plain dicts that its threaded server reads and writes from several
#: requests at once: a DescribeTasks iterating ``tasks`` while a RunTask of another cell adds
#: one raised "dictionary changed size during iteration" (a 500, then an error cell). One
#: action at a time; they are in-memory and short, and the GIL serialised most of them anyway.
_DISPATCH_LOCK = threading.RLock()


def _call_action(self: Any) -> Any:
    """Every moto action: note whether the kit asked (see ``_request``), then answer."""
    key = _caller_key(self)
    outer, _request.kit = _kit_request(), key is not None and ids.is_fake_access_key_id(key)
    try:
        return _call_original(self)
    finally:
        _request.kit = outer


def _call_original(self: Any) -> Any:
    """moto answers an unimplemented operation with HTML 500, which SDKs retry (docs/ecosystem.md
    §1.1); answer a 400 ``UnknownOperationException`` instead, serialized like any AWS error."""
    try:
        with _DISPATCH_LOCK:
            return _originals["call_action"](self)
    except NotImplementedError as exc:
        action = self._get_action() or "?"
        _record_unsupported(self, action)
        error = _AwsError(
            "UnknownOperationException",
            f"smp-compat's fake AWS (moto {moto.__version__}) does not support "
            f"{self.service_name}:{action} ({exc}).",
        )
        try:
            status, headers, body = self.serialized(ActionResult(error))
        except Exception:  # an operation botocore does not know either
            status = 400
            headers = {"Content-Type": "application/x-amz-json-1.1"}
            body = json.dumps({"__type": error.code, "message": error.message})
        headers["status"] = str(status)
        return status, headers, body


def _record_unsupported(response: Any, action: str) -> None:
    """Note on the bound registry that the caller's key got "unknown operation", so its cell
    blames the fake AWS (``fake-aws-unsupported``), not the tool."""
    key = _caller_key(response)
    if key is not None and _Binding.registry is not None:
        _Binding.registry.record_unsupported(key, f"{response.service_name}:{action}")


# --- ECS ---------------------------------------------------------------------------------


def _decorate_task(task: Any, enable: bool) -> None:
    """Give a moto task what ECS returns and moto drops (docs/ecosystem.md §1.1).

    All containers of the task definition (moto keeps the first), each with ``runtimeId``,
    ``taskArn`` = the task (moto puts the task definition's ARN), ``lastStatus`` RUNNING and,
    with exec enabled, ``managedAgents`` [ExecuteCommandAgent RUNNING].
    """
    backend = task._backend
    task_def = backend.describe_task_definition(task.task_definition_arn)
    partition = get_partition(task.region_name)
    containers = []
    now = datetime.now(UTC)
    for definition in task_def.container_definitions:
        container: Any = Container(task_def)  # type: ignore[abstract]
        container.name = definition.get("name")
        container.image = definition.get("image")
        container.cpu = definition.get("cpu", 0)
        container.memory = definition.get("memory")
        container.environment = definition.get("environment")
        container.command = definition.get("command")
        container.container_arn = (
            f"arn:{partition}:ecs:{task.region_name}:{task._account_id}:container/"
            f"{task.cluster_name}/{task.id}/{uuid.uuid4()}"
        )
        container.task_arn = task.task_arn
        container.runtime_id = ids.runtime_id(task.id)
        container.last_status = "RUNNING"
        container.managed_agents = (
            [{"name": "ExecuteCommandAgent", "lastStatus": "RUNNING", "lastStartedAt": now}]
            if enable
            else []
        )
        containers.append(container)
    task.containers = containers
    task.enable_execute_command = enable
    task.last_status = "RUNNING"


def _ensure_decorated(task: Any) -> None:
    if not hasattr(task, "enable_execute_command"):
        _decorate_task(task, False)


def _run_task(self: Any) -> Any:
    result = _originals["run_task"](self)
    if not _kit_request():
        return result
    enable = bool(self._get_param("enableExecuteCommand", False))
    for task in result.result["tasks"]:
        _decorate_task(task, enable)
    return result


def _start_task(self: Any) -> Any:
    result = _originals["start_task"](self)
    if not _kit_request():
        return result
    enable = bool(self._get_param("enableExecuteCommand", False))
    for task in result.result["tasks"]:
        _decorate_task(task, enable)
    return result


def _describe_tasks(self: Any) -> Any:
    result = _originals["describe_tasks"](self)
    for task in result.result["tasks"] if _kit_request() else ():
        _ensure_decorated(task)
    return result


def _create_service(self: Any) -> Any:
    result = _originals["create_service"](self)
    result.result["service"].enable_execute_command = bool(
        self._get_param("enableExecuteCommand", False)
    )
    return result


def _update_service(self: Any) -> Any:
    result = _originals["update_service"](self)
    service = result.result["service"]
    value = self._get_param("enableExecuteCommand")
    if value is not None:
        service.enable_execute_command = bool(value)
    elif not hasattr(service, "enable_execute_command"):
        service.enable_execute_command = False
    return result


def _find_task(backend: Any, cluster_name: str, task_id: str) -> Any | None:
    for task in backend.tasks.get(cluster_name, {}).values():
        if task.id == task_id:
            _ensure_decorated(task)
            return task
    return None


def _agent_running(container: Any) -> bool:
    return any(
        agent.get("name") == "ExecuteCommandAgent" and agent.get("lastStatus") == "RUNNING"
        for agent in getattr(container, "managed_agents", [])
    )


def _cluster_kms_key(cluster: Any) -> str | None:
    configuration = cluster.configuration or {}
    exec_config = configuration.get("executeCommandConfiguration") or {}
    key = exec_config.get("kmsKeyId")
    return str(key) if key else None


def _execute_command(self: Any) -> Any:
    """ECS ExecuteCommand (API_ExecuteCommand), validated in the order ECS reports errors."""
    if not self._get_param("interactive"):
        raise InvalidParameterException(INTERACTIVE_ONLY)
    backend = self.ecs_backend
    cluster = backend._get_cluster(self._get_param("cluster") or "default")
    task_id = str(self._get_param("task") or "").split("/")[-1]
    if len(task_id) not in (32, 36):
        raise InvalidParameterException(TASK_ID_LENGTH)
    task = _find_task(backend, cluster.name, task_id)
    if task is None:
        raise InvalidParameterException(TASK_NOT_FOUND)
    if task.last_status != "RUNNING" or not task.enable_execute_command:
        raise InvalidParameterException(EXEC_NOT_ENABLED)
    wanted = self._get_param("container")
    if wanted:
        matches = [c for c in task.containers if c.name == wanted]
        if not matches:
            raise InvalidParameterException(CONTAINER_UNKNOWN.format(name=wanted))
        container = matches[0]
    elif len(task.containers) == 1:
        container = task.containers[0]
    else:
        raise InvalidParameterException(CONTAINER_REQUIRED)
    if not _agent_running(container):
        raise InvalidParameterException(EXEC_NOT_ENABLED)
    command = self._get_param("command")
    if not command:
        raise InvalidParameterException("Command cannot be empty.")

    registry = _require_registry()
    session_id = ids.ecs_session_id()
    spec = SessionSpec(
        session_id=session_id,
        token_value=ids.token_value(),
        kind="ecs",
        target=f"ecs:{cluster.name}_{task.id}_{container.runtime_id}",
        region=self.region,
        account_id=self.current_account,
        session_type="InteractiveCommands",
        kms_key_id=_cluster_kms_key(cluster),
        document_name=documents.ECS_EXEC_DOCUMENT,
        command=command,
        access_key_id=_caller_key(self),
        drop_websocket_once=_caller_key(self) in registry.drop_once,
        started_at=time.time(),
        owner=_owner(self.current_account),
    )
    registry.add(spec)
    return ActionResult(
        {
            "clusterArn": cluster.arn,
            "containerArn": container.container_arn,
            "containerName": container.name,
            "interactive": True,
            "session": {
                "sessionId": session_id,
                "streamUrl": registry.stream_url(session_id),
                "tokenValue": spec.token_value,
            },
            "taskArn": task.task_arn,
        }
    )


def _discover_poll_endpoint(self: Any) -> Any:
    """The shapes the ECS agent receives (``https://ecs-a-1.<region>.amazonaws.com/``)."""
    region = self.region
    return ActionResult(
        {
            "endpoint": f"https://ecs-a-1.{region}.amazonaws.com/",
            "telemetryEndpoint": f"https://ecs-t-1.{region}.amazonaws.com/",
            "serviceConnectEndpoint": f"https://ecs-sc.{region}.api.aws",
        }
    )


def set_managed_agent_status(
    account_id: str, region: str, cluster: str, task_id: str, status: str
) -> None:
    """Set every container's ExecuteCommandAgent ``lastStatus`` (scenarios: agent stopped)."""
    backend = ecs_backends[account_id][region]
    task = _find_task(backend, cluster, task_id)
    if task is None:
        raise KeyError(f"no task {task_id} in cluster {cluster} ({region})")
    for container in task.containers:
        for agent in container.managed_agents:
            agent["lastStatus"] = status


# --- SSM ---------------------------------------------------------------------------------


def _owner(account_id: str) -> str:
    return f"arn:aws:sts::{account_id}:user/{_PRINCIPAL}"


def _not_connected(target: str) -> ServiceException:
    # Real text: "An error occurred (TargetNotConnected) when calling the StartSession
    # operation: i-0850c1b15772106cc is not connected."
    return _AwsError("TargetNotConnected", f"{target} is not connected.")


def _check_target(target: str, account_id: str, region: str) -> None:
    """An EC2 instance that is running, or ``ecs:<cluster>_<taskId>_<runtimeId>`` of a running
    task container whose exec agent runs (the ECS target of docs/plugin.md §2.3)."""
    if target.startswith("ecs:"):
        parts = target[4:].rsplit("_", 2)
        if len(parts) == 3:
            cluster_name, task_id, runtime = parts
            task = _find_task(ecs_backends[account_id][region], cluster_name, task_id)
            if task is not None and task.last_status == "RUNNING":
                for container in task.containers:
                    if container.runtime_id == runtime and _agent_running(container):
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


def _start_session(self: Any) -> Any:
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
    except documents.DocumentError as exc:
        raise _AwsError(exc.code, exc.message) from None
    kms_key = _preferences_kms_key(account_id, region) if plan.uses_preferences else plan.kms_key_id
    if plan.session_type == "Port":  # sessionplugin.go isEncryptionEnabled: never for Port
        kms_key = None

    registry = _require_registry()
    session_id = ids.ssm_session_id(_PRINCIPAL)
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
        access_key_id=_caller_key(self),
        drop_websocket_once=_caller_key(self) in registry.drop_once,
        started_at=time.time(),
        owner=_owner(account_id),
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


def _resume_session(self: Any) -> Any:
    """A new token for a live session (the plugin calls it after a websocket read error).

    Answered only at the SSM endpoint (``registry.ssm_hosts``): a plugin handed ECS's endpoint
    as argv[6] sends it to ECS, which does not serve SSM's API. Every call is recorded on the
    session. For a terminated session the answer has no TokenValue, the case the plugin
    reports as "Session: <sid> timed out." (docs/plugin.md §3.7).
    """
    registry = _require_registry()
    session_id = str(self._get_param("SessionId") or "")
    host = str(self.headers.get("Host") or "")
    try:
        spec = registry.get(session_id)
    except UnknownSessionError:
        spec = None
    if not _is_ssm_endpoint(host, registry):
        return _not_ssm(host, session_id, "ResumeSession")
    if spec is None:
        raise _AwsError("DoesNotExistException", f"Session {session_id} does not exist.")
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
        registry = _require_registry()
        call = ResumeCall(host, None, f"{code}: {NOT_SSM_ENDPOINT}", time.time())
        with contextlib.suppress(UnknownSessionError):
            registry.record_resume(session_id, call)
    body = json.dumps({"__type": code, "message": NOT_SSM_ENDPOINT})
    return 403, {"Content-Type": "application/x-amz-json-1.1", "status": "403"}, body


def _ecs_dispatch(self: Any, request: Any, full_url: str | None = None, headers: Any = None) -> Any:
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
    return _originals["ecs_dispatch"](self, request, full_url, headers)


def _is_ssm_endpoint(host: str, registry: SessionRegistry) -> bool:
    """SSM's local port, or ``ssm.<region>.amazonaws.com`` reached through the proxy."""
    if not registry.ssm_hosts or host in registry.ssm_hosts:
        return True
    name = host.rsplit(":", 1)[0].lower()
    return name.startswith("ssm.") and name.endswith((".amazonaws.com", ".amazonaws.com.cn"))


def _terminate_session(self: Any) -> Any:
    """Idempotent, like the real API: the answer is the session id either way."""
    registry = _require_registry()
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


def _describe_sessions(self: Any) -> Any:
    """``State`` Active (Connected) or History (Terminated), with the documented filters."""
    registry = _require_registry()
    state = self._get_param("State")
    if state not in ("Active", "History"):
        raise _AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{state}' at 'state' failed to satisfy "
            "constraint: Member must satisfy enum value set: [Active, History]",
        )
    filters = self._get_param("Filters") or []
    for item in filters:
        if item.get("key") not in _FILTER_KEYS:
            raise _AwsError("InvalidFilterKey", f"Invalid filter key: {item.get('key')}")
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


# --- self-test ---------------------------------------------------------------------------


def verify_dispatch() -> None:
    """Fail loudly, naming the operation, if moto no longer dispatches to these patches.

    Two checks per operation: the patched function is what ``call_action``'s lookup
    (``method_names_from_class`` + ``camelcase_to_underscores``) finds, and a real request
    through moto's WSGI application (in-process, no socket) returns the patch's answer.
    """
    install()
    for service, operations in PATCHED_OPERATIONS.items():
        cls = _CLASSES[service]
        for operation in operations:
            method = camelcase_to_underscores(operation)
            if method not in method_names_from_class(cls) or not getattr(
                getattr(cls, method), _MARK, False
            ):
                raise PatchDispatchError(
                    f"moto {moto.__version__}: {service}:{operation} is no longer dispatched to "
                    f"smp-compat's patch {cls.__name__}.{method}; pin moto==5.2.5 or update "
                    "compat/fakeaws/moto_ext.py"
                )
    if not getattr(BaseResponse.call_action, _MARK, False):
        raise PatchDispatchError(
            f"moto {moto.__version__}: BaseResponse.call_action is not patched"
        )
    _probe_wsgi()


def _probe_wsgi() -> None:
    client = Client(DomainDispatcherApplication(create_backend_app))
    # A registry only if none is bound: the probes create no sessions (all are refusals).
    if _Binding.registry is None:
        bind(SessionRegistry())
    probes: list[tuple[str, str, str, dict[str, Any], str]] = [
        ("ecs", "AmazonEC2ContainerServiceV20141113", "DiscoverPollEndpoint", {}, "ecs-a-1."),
        (
            "ecs",
            "AmazonEC2ContainerServiceV20141113",
            "ExecuteCommand",
            {"task": "x", "command": "sh", "interactive": False},
            INTERACTIVE_ONLY,
        ),
        (
            "ssm",
            "AmazonSSM",
            "StartSession",
            {"Target": "i-00000000000000000"},
            "TargetNotConnected",
        ),
        ("ssm", "AmazonSSM", "ResumeSession", {"SessionId": "smp-probe"}, "DoesNotExist"),
        ("ssm", "AmazonSSM", "TerminateSession", {"SessionId": "smp-probe"}, "smp-probe"),
        ("ssm", "AmazonSSM", "DescribeSessions", {"State": "Active"}, "Sessions"),
        (
            "ssm",
            "AmazonSSM",
            "DescribeInstanceInformation",
            {"Filters": [{"Key": "tag:smp-probe", "Values": ["none"]}]},
            "InstanceInformationList",
        ),
    ]
    region = "us-east-1"
    for service, prefix, operation, body, expected in probes:
        response = client.post(
            "/",
            data=json.dumps(body),
            headers={
                "Host": f"{service}.{region}.amazonaws.com",
                "X-Amz-Target": f"{prefix}.{operation}",
                "Content-Type": "application/x-amz-json-1.1",
                "Authorization": (
                    "AWS4-HMAC-SHA256 Credential=AKIAFAKEPROBE0000000/20240101/"
                    f"{region}/{service}/aws4_request, SignedHeaders=host, Signature=0"
                ),
            },
        )
        text = response.get_data(as_text=True)
        if expected not in text:
            raise PatchDispatchError(
                f"moto {moto.__version__}: {service}:{operation} did not reach smp-compat's "
                f"patch (HTTP {response.status_code}: {text[:200]!r})"
            )


# --- server and state --------------------------------------------------------------------


class MotoServer:
    """moto's ``ThreadedMotoServer`` on 127.0.0.1 with a free port, typed and quiet, without
    ``/moto-api`` and outbound calls (:mod:`compat.fakeaws.guard`)."""

    def __init__(self) -> None:
        # werkzeug logs every request at INFO on stderr unless its logger has a level.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = guard.GuardedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._running = False

    def start(self) -> None:
        self._server.start()
        self._running = True

    def stop(self) -> None:
        """Shut the WSGI server down and join its thread (idempotent)."""
        if self._running:
            self._running = False
            self._server.stop()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.get_host_and_port()
        return str(host), int(port)


def reset_backends() -> None:
    """Forget every moto resource (all services, accounts, regions), as ``/moto-api/reset``."""
    moto_api_backend.reset()
