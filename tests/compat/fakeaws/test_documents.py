"""Session documents and identifiers, without a server."""

from __future__ import annotations

import re

import pytest

from compat.fakeaws import documents, ids
from compat.fakeaws.errors import DocumentError


def test_default_shell_uses_preferences() -> None:
    plan = documents.plan_session(None, None)
    assert (plan.session_type, plan.uses_preferences, plan.properties) == (
        "Standard_Stream",
        True,
        None,
    )


def test_port_defaults() -> None:
    plan = documents.plan_session("AWS-StartPortForwardingSession", {})
    assert plan.properties == {
        "portNumber": "80",
        "type": "LocalPortForwarding",
        "localPortNumber": "0",
    }
    assert not plan.uses_preferences


def test_custom_port_document_never_carries_kms() -> None:
    content = {
        "sessionType": "Port",
        "parameters": {"p": {"type": "String", "default": "5432"}},
        "properties": {"portNumber": "{{ p }}", "type": "LocalPortForwarding"},
        "inputs": {"kmsKeyId": "alias/x"},
    }
    plan = documents.plan_session("Db", {}, content)
    assert plan.properties == {"portNumber": "5432", "type": "LocalPortForwarding"}
    assert plan.kms_key_id is None


def test_unknown_custom_document() -> None:
    with pytest.raises(DocumentError) as excinfo:
        documents.plan_session("Nope", {}, None)
    assert excinfo.value.code == "InvalidDocument"


@pytest.mark.parametrize(
    ("header", "key"),
    [
        (
            "AWS4-HMAC-SHA256 Credential=AKIAFAKE000000000001/20240101/eu-west-1/ecs/aws4_request, "
            "SignedHeaders=host, Signature=abc",
            "AKIAFAKE000000000001",
        ),
        ("X-Amz-Credential=AKIAFAKE000000000002%2F20240101%2Fus-east-1", "AKIAFAKE000000000002"),
        (None, None),
        ("Bearer xyz", None),
    ],
)
def test_access_key_id(header: str | None, key: str | None) -> None:
    assert ids.access_key_id(header) == key


def test_id_shapes() -> None:
    assert re.fullmatch(r"ecs-execute-command-[0-9a-f]{17}", ids.ecs_session_id())
    assert re.fullmatch(r"t-\d{10}", ids.runtime_id("t"))
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", ids.fake_access_key_id())
    assert len(ids.fake_secret_access_key()) == 40
