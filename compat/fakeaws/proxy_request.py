"""What a request through the proxy says (host, key, service, operation) and what a refused
one is answered: plain functions of the request's text, so each is tested without a socket."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

#: Why a request was refused: not an AWS host at all, or an AWS host the sandbox should have
#: reached through its endpoint override; a client
#: that rejected the proxy's certificate in the TLS handshake (it does not trust moto's CA:
#: no ``AWS_CA_BUNDLE``/``SSL_CERT_FILE`` support), or a request too broken to route.
RefusalReason = Literal["non-aws-host", "endpoint-ignored", "tls-untrusted", "malformed-request"]
_AWS_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


@dataclass(frozen=True)
class ProxyRecord:
    """One request that reached the proxy."""

    time: float
    method: str
    host: str
    #: First label of the host (``kms``, ``ecs``...) or the SigV4 credential scope's service.
    service: str | None
    #: From ``X-Amz-Target`` (``TrentService.GenerateDataKey`` -> ``GenerateDataKey``) or
    #: the query protocol's ``Action``.
    operation: str | None
    access_key_id: str | None
    allowed: bool
    reason: RefusalReason | None = None
    #: What went wrong, for ``tls-untrusted`` and ``malformed-request`` (the TLS alert...).
    detail: str | None = None


def is_aws_host(host: str) -> bool:
    """Whether ``host`` (no port) is an AWS service endpoint name."""
    host = host.lower().rstrip(".")
    return host.endswith(_AWS_SUFFIXES)


def proxy_auth_key(value: str | None) -> str | None:
    """The user name of ``Proxy-Authorization: Basic``: clients send it on CONNECT when the
    proxy URL carries one (``http://AKID@127.0.0.1:PORT``), the only place a TLS client's
    access key shows before the handshake."""
    scheme, _, encoded = (value or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user.split(":", 1)[0] or None


def split_authority(authority: str) -> tuple[str, int] | None:
    """``host:port`` of a CONNECT target; None when the port is missing or not a number."""
    host, sep, port = authority.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host.strip("[]"), int(port)


def operation(headers: Any, path: str, body: bytes) -> str | None:
    """The API operation: JSON protocols name it in ``X-Amz-Target``, the query protocol in
    ``Action`` (in the URL or the form body)."""
    target = headers.get("X-Amz-Target")
    if target:
        return str(target).rsplit(".", 1)[-1]
    query = parse_qs(urlsplit(path).query)
    if "Action" in query:
        return query["Action"][0]
    if body and b"Action=" in body:
        form = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0]
    return None


def service(host: str, authorization: str | None) -> str | None:
    """The signing scope's service when the request is signed, else the host's first label."""
    if authorization and "/aws4_request" in authorization:
        scope = authorization.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
        if len(scope) >= 4:
            return scope[3]
    return host.split(".", 1)[0] if is_aws_host(host) else None


def refusal_answer(record: ProxyRecord) -> tuple[int, bytes]:
    """The status and AWS-shaped JSON body a refused client reads: 400 for a request too
    broken to route, 403 otherwise, with the reason and what the tool should have done."""
    if record.reason == "malformed-request":
        status, kind, why = 400, "ValidationException", record.detail or "malformed request"
    else:
        status, kind = 403, "AccessDeniedException"
        why = (
            "the tool should have used AWS_ENDPOINT_URL / --endpoint-url"
            if record.reason == "endpoint-ignored"
            else "only AWS hosts are served"
        )
    message = (
        f"smp-compat proxy refused {record.host} ({record.reason}): nothing leaves this machine; "
    )
    return status, json.dumps({"__type": kind, "message": message + why}).encode()
