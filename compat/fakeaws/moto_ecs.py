"""moto's ECS made to answer like ECS for the kit's tasks: every container, ECS Exec, its texts."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.models import Container, ecs_backends
from moto.utilities.utils import get_partition

from compat.agent.sessions import SessionSpec
from compat.fakeaws import documents, ids
from compat.fakeaws.moto_base import caller_key, kit_request, originals, owner, require_registry

__all__ = [
    "CONTAINER_REQUIRED",
    "CONTAINER_UNKNOWN",
    "EXEC_NOT_ENABLED",
    "INTERACTIVE_ONLY",
    "TASK_ID_LENGTH",
    "TASK_NOT_FOUND",
    "agent_running",
    "create_service",
    "describe_tasks",
    "discover_poll_endpoint",
    "execute_command",
    "find_task",
    "run_task",
    "set_managed_agent_status",
    "start_task",
    "update_service",
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


def run_task(self: Any) -> Any:
    result = originals["run_task"](self)
    if not kit_request():
        return result
    enable = bool(self._get_param("enableExecuteCommand", False))
    for task in result.result["tasks"]:
        _decorate_task(task, enable)
    return result


def start_task(self: Any) -> Any:
    result = originals["start_task"](self)
    if not kit_request():
        return result
    enable = bool(self._get_param("enableExecuteCommand", False))
    for task in result.result["tasks"]:
        _decorate_task(task, enable)
    return result


def describe_tasks(self: Any) -> Any:
    result = originals["describe_tasks"](self)
    for task in result.result["tasks"] if kit_request() else ():
        _ensure_decorated(task)
    return result


def create_service(self: Any) -> Any:
    result = originals["create_service"](self)
    result.result["service"].enable_execute_command = bool(
        self._get_param("enableExecuteCommand", False)
    )
    return result


def update_service(self: Any) -> Any:
    result = originals["update_service"](self)
    service = result.result["service"]
    value = self._get_param("enableExecuteCommand")
    if value is not None:
        service.enable_execute_command = bool(value)
    elif not hasattr(service, "enable_execute_command"):
        service.enable_execute_command = False
    return result


def find_task(backend: Any, cluster_name: str, task_id: str) -> Any | None:
    for task in backend.tasks.get(cluster_name, {}).values():
        if task.id == task_id:
            _ensure_decorated(task)
            return task
    return None


def agent_running(container: Any) -> bool:
    return any(
        agent.get("name") == "ExecuteCommandAgent" and agent.get("lastStatus") == "RUNNING"
        for agent in getattr(container, "managed_agents", [])
    )


def _cluster_kms_key(cluster: Any) -> str | None:
    configuration = cluster.configuration or {}
    exec_config = configuration.get("executeCommandConfiguration") or {}
    key = exec_config.get("kmsKeyId")
    return str(key) if key else None


def execute_command(self: Any) -> Any:
    """ECS ExecuteCommand (API_ExecuteCommand), validated in the order ECS reports errors."""
    if not self._get_param("interactive"):
        raise InvalidParameterException(INTERACTIVE_ONLY)
    backend = self.ecs_backend
    cluster = backend._get_cluster(self._get_param("cluster") or "default")
    task_id = str(self._get_param("task") or "").split("/")[-1]
    if len(task_id) not in (32, 36):
        raise InvalidParameterException(TASK_ID_LENGTH)
    task = find_task(backend, cluster.name, task_id)
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
    if not agent_running(container):
        raise InvalidParameterException(EXEC_NOT_ENABLED)
    command = self._get_param("command")
    if not command:
        raise InvalidParameterException("Command cannot be empty.")

    registry = require_registry()
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
        access_key_id=caller_key(self),
        drop_websocket_once=caller_key(self) in registry.drop_once,
        started_at=time.time(),
        owner=owner(self.current_account),
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


def discover_poll_endpoint(self: Any) -> Any:
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
    task = find_task(backend, cluster, task_id)
    if task is None:
        raise KeyError(f"no task {task_id} in cluster {cluster} ({region})")
    for container in task.containers:
        for agent in container.managed_agents:
            agent["lastStatus"] = status
