"""Code under test reaches the fake AWS only as AWS: no ``/moto-api/*``, no outbound calls.

moto's servers answer ``/moto-api/*`` on any host (``POST /moto-api/reset`` forgets every
resource, the seeding of concurrent cells included), and some of its services call out: an SNS
subscription to an ``http(s)`` endpoint is POSTed to on publish, EventBridge API destinations,
Firehose HTTP endpoints and Lambda (Docker) likewise. The kit itself never needs either: it
resets moto in-process (:func:`compat.fakeaws.moto_ext.reset_backends`) and serves no
subscriber.

So the kit's moto servers are :class:`GuardedMotoServer`: a ``/moto-api`` request gets 403 and
never reaches moto, and while a thread answers a request (there or through the proxy) an HTTP
call made by ``requests`` — the only client moto calls out with — raises
:class:`OutboundRefusedError`, which moto answers as an AWS error. Other threads of the process
(a test suite using ``requests`` next to the ``smp_fake_aws`` fixture) are not affected.
"""

from __future__ import annotations

import contextlib
import json
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import requests.adapters
from moto.core.exceptions import ServiceException
from moto.moto_proxy.proxy3 import MotoRequestHandler
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)
from moto.moto_server.werkzeug_app import MotoRequestHandler as WSGIRequestHandler
from werkzeug.serving import make_server

__all__ = [
    "GuardedApp",
    "GuardedMotoServer",
    "OutboundRefusedError",
    "install",
    "refusing_outbound",
]

#: The answer to ``/moto-api/*``: an AWS-shaped error, so an SDK reports it as one.
MOTO_API_REFUSED = (
    "smp-compat's fake AWS does not serve /moto-api/* to the programs it tests "
    "(a reset would wipe what other cells were given)"
)
OUTBOUND_REFUSED = (
    "smp-compat's fake AWS makes no outbound calls (subscriptions, HTTP endpoints, "
    "Lambda): nothing leaves this machine"
)

_local = threading.local()
_installed = threading.Lock()
_original_send: Callable[..., Any] | None = None


class OutboundRefusedError(ServiceException):
    """What a moto action gets for trying to call out; moto serializes it as an AWS error."""

    code = "AccessDeniedException"
    message = OUTBOUND_REFUSED


@contextlib.contextmanager
def refusing_outbound() -> Iterator[None]:
    """While inside, ``requests`` calls from this thread raise :class:`OutboundRefusedError`."""
    outer = getattr(_local, "refusing", False)
    _local.refusing = True
    try:
        yield
    finally:
        _local.refusing = outer


def _send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
    if getattr(_local, "refusing", False):
        raise OutboundRefusedError(OUTBOUND_REFUSED)
    assert _original_send is not None
    return _original_send(self, request, *args, **kwargs)


def _proxy_parse_request(self: Any, *args: Any, **kwargs: Any) -> Any:
    with refusing_outbound():
        return _original_parse_request(self, *args, **kwargs)


_original_parse_request: Callable[..., Any] = MotoRequestHandler.parse_request


def install() -> None:
    """Refuse outbound ``requests`` calls in threads answering a moto request (idempotent).

    Requests through the proxy (moto's ``MotoRequestHandler.parse_request``) are marked here;
    those to :class:`GuardedMotoServer` by :class:`GuardedApp`.
    """
    global _original_send  # noqa: PLW0603 - one process-wide patch, installed once
    with _installed:
        if _original_send is not None:
            return
        _original_send = requests.adapters.HTTPAdapter.send
        # moto warns that the code is not in the service's error shapes; it is the same code
        # for every service on purpose (the SDK reports it as an AWS error all the same).
        warnings.filterwarnings(
            "ignore", message=r"Exception\(OutboundRefusedError\)", category=UserWarning
        )
        requests.adapters.HTTPAdapter.send = _send  # type: ignore[method-assign]
        MotoRequestHandler.parse_request = _proxy_parse_request  # type: ignore[method-assign]


class GuardedApp:
    """moto's WSGI application without ``/moto-api``, answering with outbound calls refused."""

    def __init__(self) -> None:
        self.dispatcher = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        # Whatever moto would route to its own API (path, host or header) is refused: the
        # dispatcher's own choice is checked, not a copy of its rules.
        app = self.dispatcher.get_application(environ)
        if app is self.dispatcher.app_instances.get("moto_api"):
            body = json.dumps({"__type": "AccessDeniedException", "message": MOTO_API_REFUSED})
            start_response(
                "403 Forbidden",
                [("Content-Type", "application/x-amz-json-1.1"), ("Connection", "close")],
            )
            return [body.encode()]
        with refusing_outbound():
            # moto's views compute their answer inside this call; the body is only sent after.
            reply: Iterable[bytes] = app(environ, start_response)
            return reply


class GuardedMotoServer(ThreadedMotoServer):
    """``ThreadedMotoServer`` serving :class:`GuardedApp` (the same threads and handler)."""

    def _server_entry(self) -> None:
        install()
        self._server = make_server(
            self._ip_address,
            self._port,
            GuardedApp(),
            True,
            request_handler=WSGIRequestHandler,
        )
        self._server_ready_event.set()
        self._server.serve_forever()
