"""One AWS JSON-1.1 call as aws-sdk-go v1 makes it for the plugin, with Go's error texts.

The handler order is the SDK's ``request.Send`` (``aws/request/request.go``): validate endpoint
(``MissingRegion``), validate parameters, sign (credential errors), send with the plugin's
retryer (``SMP:src/sdkutil/retryer/retryer.go``: 3 retries, 2^n x 1.0-1.5 s), unmarshal errors
(``private/protocol/jsonrpc/unmarshal_error.go``). Transport: Go's ``ProxyFromEnvironment``
with a CONNECT tunnel, and ``AWS_CA_BUNDLE`` as the only roots when set
(``aws/session/session.go:568-675``). Error shapes: ``aws/awserr/types.go`` ``SprintError``,
``aws/corehandlers/handlers.go:164`` (``RequestError: send request failed``).
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fake_plugin.awsconfig import MISSING_REGION, SdkConfig
from fake_plugin.errors import OfflineError, SdkError
from fake_plugin.netpolicy import is_loopback, offline, proxy_for

#: aws/version.go in the vendored SDK of 1.2.650.0 and 1.2.677.0.
SDK_USER_AGENT = "aws-sdk-go/1.54.10 (go1.22; linux; amd64)"
#: ``client.DefaultRetryer{NumMaxRetries: 3}`` (SMP:src/sdkutil/awsconfig.go:47-51).
MAX_RETRIES = 3
#: aws/request/retryer.go throttleCodes.
_THROTTLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottledException",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "PriorRequestNotComplete",
        "TransactionInProgressException",
        "EC2ThrottledException",
    }
)


@dataclass(frozen=True)
class JsonService:
    """A JSON-1.1 service: its endpoint prefix, ``X-Amz-Target`` prefix and modeled errors.

    Modeled exceptions print ``Code: message`` only; the others are a ``RequestFailure``
    with ``\\n\\tstatus code: N, request id: X`` (kms/api.go ``Error()``, unmarshal_error.go).
    """

    endpoint_prefix: str
    signing_name: str
    target_prefix: str
    modeled_errors: frozenset[str] = field(default_factory=frozenset)


def default_endpoint(service: JsonService, config: SdkConfig) -> str:
    """The resolved regional endpoint (``kms-fips`` with ``AWS_USE_FIPS_ENDPOINT=true``)."""
    prefix = service.endpoint_prefix + ("-fips" if config.use_fips else "")
    suffix = "amazonaws.com.cn" if config.region.startswith("cn-") else "amazonaws.com"
    return f"https://{prefix}.{config.region}.{suffix}/"


def _with_scheme(endpoint: str) -> str:
    # endpoints.AddScheme: a bare host gets https://; the operation path "/" is appended.
    url = endpoint if "://" in endpoint else "https://" + endpoint
    return url if urlsplit(url).path else url + "/"


def _go_dial_error(exc: OSError, host: str, port: int) -> str:
    if isinstance(exc, OfflineError):
        return str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return f"dial tcp {host}:{port}: connect: connection refused"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"dial tcp {host}:{port}: i/o timeout"
    return f"dial tcp {host}:{port}: {exc.strerror or exc}"


def _go_tls_error(exc: ssl.SSLError, host: str) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = exc.verify_code
        if code == 62:  # X509_V_ERR_HOSTNAME_MISMATCH
            return f"x509: certificate is not valid for {host}"  # inexact: Go lists the names
        if code in (9, 10):  # not yet valid / expired
            return "x509: certificate has expired or is not yet valid"
        return "x509: certificate signed by unknown authority"
    return f"remote error: tls: {exc.reason or exc}".lower()


def _tls_context(config: SdkConfig, environ: Mapping[str, str]) -> ssl.SSLContext:
    """Go's roots: the CA bundle alone when set, else the system roots, which on Linux are
    ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when those are set (crypto/x509 root_unix.go)."""
    bundle = config.ca_bundle or environ.get("SSL_CERT_FILE") or None
    directory = None if config.ca_bundle else environ.get("SSL_CERT_DIR") or None
    if bundle is None and directory is None:
        return ssl.create_default_context()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for cafile, capath in ((bundle, None), (None, directory)):
        if cafile or capath:
            # An unreadable file adds no roots, as in Go: verification then fails.
            with contextlib.suppress(OSError, ssl.SSLError):
                context.load_verify_locations(cafile=cafile, capath=capath)
    return context


@dataclass
class _Response:
    status: int
    headers: dict[str, str]
    body: bytes


def _send_once(
    url: str, headers: Mapping[str, str], body: bytes, config: SdkConfig, environ: Mapping[str, str]
) -> _Response:
    """POST once; raises SdkError with the Go ``url.Error`` text on transport failure."""
    import http.client  # noqa: PLC0415

    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    proxy = proxy_for(url, environ)
    conn: http.client.HTTPConnection
    try:
        if proxy is not None:
            pparts = urlsplit(proxy)
            phost, pport = pparts.hostname or "", pparts.port or 80
            try:
                if not is_loopback(phost):
                    raise offline(phost, pport)
                sock = socket.create_connection((phost, pport), timeout=30)
            except OSError as exc:
                raise SdkError("proxyconnect tcp: " + _go_dial_error(exc, phost, pport)) from None
            if https:
                sock.sendall(
                    f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    f"User-Agent: Go-http-client/1.1\r\n\r\n".encode()
                )
                status_line = _read_head(sock)
                reason = status_line.split(" ", 2)
                if len(reason) < 2 or reason[1] != "200":
                    sock.close()
                    # transport.go: a non-200 CONNECT answer becomes errors.New(status text).
                    raise SdkError(reason[2] if len(reason) > 2 else "unknown status code")
                try:
                    sock = _tls_context(config, environ).wrap_socket(sock, server_hostname=host)
                except ssl.SSLError as exc:
                    raise SdkError(_go_tls_error(exc, host)) from None
            conn = http.client.HTTPConnection(host, port, timeout=30)
            conn.sock = sock
            target = (parts.path or "/") if https else url
        else:
            try:
                if not is_loopback(host):
                    raise offline(host, port)
                sock = socket.create_connection((host, port), timeout=30)
            except OSError as exc:
                raise SdkError(_go_dial_error(exc, host, port)) from None
            if https:
                try:
                    sock = _tls_context(config, environ).wrap_socket(sock, server_hostname=host)
                except ssl.SSLError as exc:
                    raise SdkError(_go_tls_error(exc, host)) from None
            conn = http.client.HTTPConnection(host, port, timeout=30)
            conn.sock = sock
            target = parts.path or "/"
        try:
            conn.request("POST", target, body=body, headers=dict(headers))
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise SdkError(f"read tcp: {exc}") from None
        finally:
            conn.close()
        return _Response(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    except SdkError as exc:
        raise SdkError(f'Post "{url}": {exc}') from None


def _read_head(sock: socket.socket) -> str:
    """Read a proxy's CONNECT answer up to the blank line; return its status line."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def _request_failure(code: str, message: str, status: int, request_id: str) -> str:
    return f"{code}: {message}\n\tstatus code: {status}, request id: {request_id}"


def _error_from_response(service: JsonService, response: _Response) -> tuple[str, str]:
    """(Go error text, code) for a non-2xx answer."""
    request_id = response.headers.get("x-amzn-requestid", "")
    try:
        body = json.loads(response.body or b"null")
        if not isinstance(body, dict):
            raise ValueError("not an object")
    except ValueError:
        # Inexact: Go adds a hex dump of the body and the json decoder's own words.
        text = _request_failure(
            "SerializationError",
            "failed to unmarshal response error",
            response.status,
            request_id,
        )
        return text + "\ncaused by: UnmarshalError: failed decoding error message", ""
    # Go's encoding/json matches struct fields case-insensitively; the last match wins.
    code_raw, message = "", ""
    for key, value in body.items():
        if key.lower() == "__type" and isinstance(value, str):
            code_raw = value
        elif key.lower() == "message" and isinstance(value, str):
            message = value
    code = code_raw.split("#", 1)[-1]
    if code in service.modeled_errors:
        return f"{code}: {message}", code
    return _request_failure(code, message, response.status, request_id), code


def call(
    service: JsonService,
    operation: str,
    params: dict[str, Any],
    config: SdkConfig,
    environ: Mapping[str, str],
    *,
    endpoint: str = "",
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """Make the call; return the decoded JSON answer or raise :class:`SdkError`."""
    if not config.region:
        raise SdkError(MISSING_REGION)
    if config.credentials is None:
        raise SdkError(config.credentials_error)
    url = _with_scheme(endpoint) if endpoint else default_endpoint(service, config)
    body = json.dumps(params, separators=(",", ":"), sort_keys=True).encode()
    retries = 0
    while True:
        headers = _signed_headers(service, operation, url, body, config)
        retryable = False
        try:
            response = _send_once(url, headers, body, config, environ)
        except SdkError as exc:
            # Every send failure is retryable (request/retryer.go shouldRetryError).
            text, retryable = f"RequestError: send request failed\ncaused by: {exc}", True
        else:
            if 200 <= response.status < 300:
                return json.loads(response.body or b"{}")
            text, code = _error_from_response(service, response)
            retryable = (
                (response.status >= 500 and response.status != 501)
                or response.status == 429
                or code in _THROTTLE_CODES
            )
        if not retryable or retries >= MAX_RETRIES:
            raise SdkError(text)
        # SsmCliRetryer.RetryRules: 2^RetryCount x [1000, 1500) ms.
        sleep((2**retries) * random.randrange(1000, 1500) / 1000)
        retries += 1


def _signed_headers(
    service: JsonService, operation: str, url: str, body: bytes, config: SdkConfig
) -> dict[str, str]:
    """SigV4 headers for the request (botocore's signer, imported only when a call is made)."""
    from botocore.auth import SigV4Auth  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415
    from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415
    from botocore.credentials import (  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415
        Credentials as BotoCredentials,
    )

    creds = config.credentials
    assert creds is not None
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"{service.target_prefix}.{operation}",
            "User-Agent": SDK_USER_AGENT,
        },
    )
    SigV4Auth(
        BotoCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token or None),
        service.signing_name,
        config.region,
    ).add_auth(request)
    headers = {k: str(v) for k, v in request.headers.items()}
    headers["Content-Length"] = str(len(body))
    return headers
