"""moto 5.2.5 extended in-process: ECS Exec, SSM sessions, and JSON errors for what it lacks.

The one door to the extension (:mod:`compat.fakeaws.stage` opens it): the patches live in
``moto_patch`` (ECS in ``moto_ecs``, SSM in ``moto_ssm``, what they share in ``moto_base``),
their self-test in ``moto_selftest``; here are the server and the state.
"""

from __future__ import annotations

import logging

from moto.moto_api._internal.models import moto_api_backend

from compat.fakeaws import guard
from compat.fakeaws.moto_base import bind, unbind
from compat.fakeaws.moto_ecs import (
    CONTAINER_REQUIRED,
    CONTAINER_UNKNOWN,
    EXEC_NOT_ENABLED,
    INTERACTIVE_ONLY,
    TASK_ID_LENGTH,
    TASK_NOT_FOUND,
    set_managed_agent_status,
)
from compat.fakeaws.moto_patch import PATCHED_OPERATIONS, install
from compat.fakeaws.moto_selftest import verify_dispatch
from compat.fakeaws.moto_ssm import NOT_SSM_ENDPOINT

__all__ = [
    "CONTAINER_REQUIRED",
    "CONTAINER_UNKNOWN",
    "EXEC_NOT_ENABLED",
    "INTERACTIVE_ONLY",
    "NOT_SSM_ENDPOINT",
    "PATCHED_OPERATIONS",
    "TASK_ID_LENGTH",
    "TASK_NOT_FOUND",
    "MotoServer",
    "bind",
    "install",
    "reset_backends",
    "set_managed_agent_status",
    "unbind",
    "verify_dispatch",
]


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
