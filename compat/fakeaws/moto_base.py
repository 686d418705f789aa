"""What every moto patch shares: the originals, the bound session registry, who is asking."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import ServiceException

from compat.agent.sessions import SessionRegistry
from compat.fakeaws import ids

__all__ = [
    "KIT_TASK_MODEL",
    "MARK",
    "PRINCIPAL",
    "AwsError",
    "Binding",
    "bind",
    "caller_key",
    "kit_request",
    "originals",
    "owner",
    "request_state",
    "require_registry",
    "unbind",
]

#: moto's default caller identity (``sts get-caller-identity`` answers ``user/moto``).
PRINCIPAL = "moto"
MARK = "__smp_compat__"

originals: dict[str, Callable[..., Any]] = {}
#: Whether the request this thread is answering is the kit's (signed with a key of
#: ``ids.fake_access_key_id``): ECS's shapes change for the kit's tasks only, so a suite's own
#: moto calls in the same process (``mock_aws``) keep moto's answers.
request_state = threading.local()
#: The kit's tasks' own state model: they stay RUNNING, ``ecs::task`` keeps moto's default.
KIT_TASK_MODEL = "smp-compat::ecs-task"


class Binding:
    """Where patched operations put sessions (one registry per process at a time)."""

    registry: SessionRegistry | None = None


class AwsError(ServiceException):
    """An AWS error answer. Defined here, not in moto: moto looks an exception's code up in the
    service model named by the exception's *module*, and ``moto.core`` names no service."""


def bind(registry: SessionRegistry) -> None:
    """Make sessions created by the patched operations land in ``registry``.

    moto's backends are process-wide, so there is one registry per process at a time.
    """
    Binding.registry = registry


def unbind(registry: SessionRegistry) -> None:
    """Forget ``registry`` if it is the bound one (its FakeAWS stopped)."""
    if Binding.registry is registry:
        Binding.registry = None


def kit_request() -> bool:
    return bool(getattr(request_state, "kit", False))


def require_registry() -> SessionRegistry:
    if Binding.registry is None:
        raise AwsError(
            "InternalServerError", "smp-compat: no session registry is bound (moto_ext.bind)."
        )
    return Binding.registry


def caller_key(response: Any) -> str | None:
    return ids.access_key_id(response.headers.get("Authorization"))


def owner(account_id: str) -> str:
    return f"arn:aws:sts::{account_id}:user/{PRINCIPAL}"
