"""What the proxy reads from a request and answers a refused one (no sockets)."""

from __future__ import annotations

import base64
import json

import pytest

from compat.fakeaws.proxy_request import (
    ProxyRecord,
    RefusalReason,
    operation,
    proxy_auth_key,
    refusal_answer,
    service,
    split_authority,
)


def _basic(user_and_password: str) -> str:
    return "Basic " + base64.b64encode(user_and_password.encode()).decode()


@pytest.mark.parametrize(
    ("value", "key"),
    [
        (_basic("AKIAFAKE0001:secret"), "AKIAFAKE0001"),
        (_basic("AKIAFAKE0001"), "AKIAFAKE0001"),
        ("basic " + base64.b64encode(b"AKIAFAKE0002:").decode(), "AKIAFAKE0002"),
        (_basic(":no-user"), None),
        ("Bearer abc", None),
        ("Basic not*base64", None),
        ("Basic " + base64.b64encode(b"\xff\xfe").decode(), None),
        (None, None),
    ],
)
def test_the_proxy_user_is_the_access_key(value: str | None, key: str | None) -> None:
    assert proxy_auth_key(value) == key


@pytest.mark.parametrize(
    ("authority", "target"),
    [
        ("kms.us-east-1.amazonaws.com:443", ("kms.us-east-1.amazonaws.com", 443)),
        ("[::1]:8443", ("::1", 8443)),
        ("kms.us-east-1.amazonaws.com", None),
        ("kms.us-east-1.amazonaws.com:https", None),
        (":443", None),
        ("host:0", None),
        ("host:65536", None),
    ],
)
def test_a_connect_target_needs_host_and_port(
    authority: str, target: tuple[str, int] | None
) -> None:
    assert split_authority(authority) == target


def test_the_operation_from_each_protocol() -> None:
    json_protocol = {"X-Amz-Target": "TrentService.GenerateDataKey"}
    assert operation(json_protocol, "/", b"{}") == "GenerateDataKey"
    assert operation({}, "/?Action=DescribeInstances&Version=1", b"") == "DescribeInstances"
    assert operation({}, "/", b"Action=GetCallerIdentity&Version=2011-06-15") == (
        "GetCallerIdentity"
    )
    assert operation({}, "/", b'{"Action=": 1}') is None
    assert operation({}, "/", b"") is None


def test_the_service_from_the_signature_scope_else_the_host() -> None:
    signed = "AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/ssmmessages/aws4_request, S=x"
    assert service("ssm.us-east-1.amazonaws.com", signed) == "ssmmessages"
    assert service("kms.eu-west-1.amazonaws.com", None) == "kms"
    assert service("example.com", None) is None


def _refused(reason: RefusalReason, detail: str | None = None) -> ProxyRecord:
    return ProxyRecord(0.0, "GET", "ecs.us-east-1.amazonaws.com", "ecs", None, "AKIA", False,
                       reason, detail)  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "detail", "status", "kind", "why"),
    [
        ("endpoint-ignored", None, 403, "AccessDeniedException", "AWS_ENDPOINT_URL"),
        ("non-aws-host", None, 403, "AccessDeniedException", "only AWS hosts are served"),
        ("malformed-request", "no Host header", 400, "ValidationException", "no Host header"),
        ("malformed-request", None, 400, "ValidationException", "malformed request"),
    ],
)
def test_a_refusal_answers_in_aws_json_with_the_reason(
    reason: RefusalReason, detail: str | None, status: int, kind: str, why: str
) -> None:
    got_status, body = refusal_answer(_refused(reason, detail))
    answer = json.loads(body)
    assert (got_status, answer["__type"]) == (status, kind)
    assert answer["message"].startswith(
        f"smp-compat proxy refused ecs.us-east-1.amazonaws.com ({reason}): "
    )
    assert why in answer["message"]
