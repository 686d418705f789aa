"""Installs the ECS and SSM patches into moto 5.2.5, and JSON errors for what it lacks."""


# This is the one module that touches moto's (untyped) internals. Mechanism (docs/ecosystem.md
# §1.2): ``BaseResponse.call_action`` dispatches ``camelcase_to_underscores(<Action>)`` to any
# function found on the Response class, and ``ActionResult`` serializes model attributes by
# the botocore output shape, so ``task.enable_execute_command`` comes out as
# ``enableExecuteCommand``. Patches therefore live on the existing Response classes and work
# for ``ThreadedMotoServer`` and the in-process proxy alike (not for a separate
# ``moto_server`` process). moto is pinned; :func:`verify_dispatch` fails loudly if an
# upgrade breaks the mechanism.

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections.abc import Callable
from typing import Any

import moto
from moto.core import errors as moto_errors
from moto.core.responses import ActionResult, BaseResponse
from moto.ec2.models.amis import AmiBackend
from moto.ecs.models import Task
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api import state_manager
from moto.ssm.responses import SimpleSystemManagerResponse

from compat.agent.sessions import SessionRegistry
from compat.fakeaws import guard, ids, readonly
from compat.fakeaws.moto_base import (
    KIT_TASK_MODEL,
    MARK,
    AwsError,
    Binding,
    bind,
    caller_key,
    kit_request,
    originals,
    request_state,
)
from compat.fakeaws.moto_ecs import (
    create_service,
    describe_tasks,
    discover_poll_endpoint,
    execute_command,
    run_task,
    start_task,
    update_service,
)
from compat.fakeaws.moto_ssm import (
    describe_sessions,
    ecs_dispatch,
    resume_session,
    start_session,
    terminate_session,
)

__all__ = ["CLASSES", "PATCHED_OPERATIONS", "install"]

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
CLASSES: dict[str, type] = {
    "ecs": EC2ContainerServiceResponse,
    "ssm": SimpleSystemManagerResponse,
}

_lock = threading.Lock()


def install(registry: SessionRegistry | None = None) -> None:
    """Patch moto's Response classes (idempotent) and optionally :func:`bind` a registry."""
    guard.install()
    with _lock:
        if not originals:
            _patch()
    if registry is not None:
        bind(registry)


def _patch() -> None:
    for name in ("run_task", "start_task", "describe_tasks", "create_service", "update_service"):
        originals[name] = getattr(EC2ContainerServiceResponse, name)
    originals["call_action"] = BaseResponse.call_action
    originals["ecs_dispatch"] = EC2ContainerServiceResponse._dispatch
    table: dict[type, dict[str, Callable[..., Any]]] = {
        EC2ContainerServiceResponse: {
            "run_task": run_task,
            "start_task": start_task,
            "describe_tasks": describe_tasks,
            "create_service": create_service,
            "update_service": update_service,
            "execute_command": execute_command,
            "discover_poll_endpoint": discover_poll_endpoint,
            "_dispatch": ecs_dispatch,
        },
        SimpleSystemManagerResponse: {
            "start_session": start_session,
            "resume_session": resume_session,
            "terminate_session": terminate_session,
            "describe_sessions": describe_sessions,
            "describe_instance_information": readonly.describe_instance_information,
        },
        BaseResponse: {"call_action": _call_action},
    }
    for cls, methods in table.items():
        for name, function in methods.items():
            setattr(function, MARK, True)
            setattr(cls, name, function)
    # UnknownOperationException is in no service model; moto would warn on every such answer
    # (moto/core/errors.py get_error_model) unless the code is one it treats as common.
    if "UnknownOperationException" not in moto_errors.COMMON_ERROR_CODES:
        moto_errors.COMMON_ERROR_CODES.append("UnknownOperationException")
    # The kit's task ids are 32 hex digits, as ECS has minted them since the long ARN format
    # (moto uses a dashed UUID). Callers lean on the shape: aws-ssm-juggle takes the task id
    # back out of the Fargate runtimeId ``<taskId>-<digits>`` with ``split("-")[0]``
    # (docs/callers.md §1 row 11).
    originals["task_init"] = Task.__init__
    Task.__init__ = _task_init  # type: ignore[method-assign]
    # The kit's tasks stay RUNNING until StopTask. moto's default for ``ecs::task`` is "manual,
    # times 1": the second DescribeTasks would show DEACTIVATING (moto docs:
    # configuration/state_transition). Their own model name leaves ``ecs::task`` to the suite.
    state_manager.register_default_transition(
        model_name=KIT_TASK_MODEL, transition={"progression": "manual", "times": sys.maxsize}
    )
    # Every RunInstances looks its AMI up with ``filters={"image-id": id}`` (moto's
    # Instance.__init__), a wildcard match over every AMI moto ships (~1,300): 20-30 ms of
    # each instance the kit seeds, under the dispatch lock below. An exact id is a dict lookup.
    originals["describe_images"] = AmiBackend.describe_images
    AmiBackend.describe_images = _describe_images  # type: ignore[method-assign]


def _task_init(self: Any, *args: Any, **kwargs: Any) -> None:
    originals["task_init"](self, *args, **kwargs)
    if kit_request():
        self.id = uuid.uuid4().hex
        self.model_name = KIT_TASK_MODEL


def _describe_images(
    self: Any,
    ami_ids: list[str] | None = None,
    filters: dict[str, Any] | None = None,
    exec_users: list[str] | None = None,
    owners: list[str] | None = None,
) -> Any:
    """moto's ``describe_images``, with one exact ``image-id`` filter answered from its dict."""
    wanted = (filters or {}).get("image-id")
    exact = isinstance(wanted, str) and not any(c in wanted for c in "*?[")
    if exact and len(filters or {}) == 1 and not (ami_ids or exec_users or owners):
        image = self.amis.get(wanted)
        return [image] if image is not None else []
    return originals["describe_images"](self, ami_ids, filters, exec_users, owners)


#: moto's backends are plain dicts that its threaded server reads and writes from several
#: requests at once: a DescribeTasks iterating ``tasks`` while a RunTask of another cell adds
#: one raised "dictionary changed size during iteration" (a 500, then an error cell). One
#: action at a time; they are in-memory and short, and the GIL serialised most of them anyway.
_DISPATCH_LOCK = threading.RLock()


def _call_action(self: Any) -> Any:
    """Every moto action: note whether the kit asked (see ``request_state``), then answer."""
    key = caller_key(self)
    outer, request_state.kit = kit_request(), key is not None and ids.is_fake_access_key_id(key)
    try:
        return _call_original(self)
    finally:
        request_state.kit = outer


def _call_original(self: Any) -> Any:
    """moto answers an unimplemented operation with HTML 500, which SDKs retry (docs/ecosystem.md
    §1.1); answer a 400 ``UnknownOperationException`` instead, serialized like any AWS error."""
    try:
        with _DISPATCH_LOCK:
            return originals["call_action"](self)
    except NotImplementedError as exc:
        action = self._get_action() or "?"
        _record_unsupported(self, action)
        error = AwsError(
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
    key = caller_key(response)
    if key is not None and Binding.registry is not None:
        Binding.registry.record_unsupported(key, f"{response.service_name}:{action}")
