"""The self-test that moto still dispatches to the kit's patches (a moto upgrade fails loudly)."""

from __future__ import annotations

import json
from typing import Any

import moto
from moto.core.responses import BaseResponse
from moto.core.utils import camelcase_to_underscores, method_names_from_class
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.test import Client

from compat.agent.sessions import SessionRegistry
from compat.fakeaws.errors import PatchDispatchError
from compat.fakeaws.moto_base import MARK, Binding, bind
from compat.fakeaws.moto_ecs import INTERACTIVE_ONLY
from compat.fakeaws.moto_patch import CLASSES, PATCHED_OPERATIONS, install

__all__ = ["verify_dispatch"]


def verify_dispatch() -> None:
    """Fail loudly, naming the operation, if moto no longer dispatches to these patches.

    Two checks per operation: the patched function is what ``call_action``'s lookup
    (``method_names_from_class`` + ``camelcase_to_underscores``) finds, and a real request
    through moto's WSGI application (in-process, no socket) returns the patch's answer.
    """
    install()
    for service, operations in PATCHED_OPERATIONS.items():
        cls = CLASSES[service]
        for operation in operations:
            method = camelcase_to_underscores(operation)
            if method not in method_names_from_class(cls) or not getattr(
                getattr(cls, method), MARK, False
            ):
                raise PatchDispatchError(
                    f"moto {moto.__version__}: {service}:{operation} is no longer dispatched to "
                    f"smp-compat's patch {cls.__name__}.{method}; pin moto==5.2.5 or update "
                    "compat/fakeaws/moto_patch.py"
                )
    if not getattr(BaseResponse.call_action, MARK, False):
        raise PatchDispatchError(
            f"moto {moto.__version__}: BaseResponse.call_action is not patched"
        )
    _probe_wsgi()


def _probe_wsgi() -> None:
    client = Client(DomainDispatcherApplication(create_backend_app))
    # A registry only if none is bound: the probes create no sessions (all are refusals).
    if Binding.registry is None:
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
