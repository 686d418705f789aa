"""Proxy mode: AWS hosts served from moto over TLS with moto's CA; everything else refused."""

from __future__ import annotations

import base64
import http.client
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from compat.fakeaws import Credentials, FakeAWS, proxy
from compat.fakeaws.errors import ProxyError
from compat.fakeaws.seed import EcsTarget

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def task(fake: FakeAWS) -> EcsTarget:
    return fake.seed_ecs_task(kms_key=True)


def _client(fake: FakeAWS, service: str, key: str) -> Any:
    """A client with no endpoint override, like aws-sdk-go v1 or the plugin's KMS client."""
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name="eu-west-1",
        aws_access_key_id=key,
        aws_secret_access_key="s" * 40,
        verify=str(fake.ca_bundle),
        config=Config(
            proxies={"https": fake.proxy_url, "http": fake.proxy_url},
            retries={"max_attempts": 1},
        ),
    )


def test_kms_through_the_proxy_uses_the_same_backends(fake: FakeAWS, task: EcsTarget) -> None:
    """The plugin's GenerateDataKey (docs/plugin.md §2.3) reaches moto via the KMS host."""
    kms = _client(fake, "kms", "AKIAFAKEPROXYKMS0001")
    context = {"aws:ssm:SessionId": "sid", "aws:ssm:TargetId": task.ssm_target}
    key = kms.generate_data_key(KeyId=task.kms_key_id, NumberOfBytes=64, EncryptionContext=context)
    assert len(key["Plaintext"]) == 64
    plain = fake.client("kms").decrypt(
        CiphertextBlob=key["CiphertextBlob"], EncryptionContext=context
    )
    assert plain["Plaintext"] == key["Plaintext"]
    (record,) = fake.proxy.records("AKIAFAKEPROXYKMS0001")
    assert (record.host, record.service, record.operation, record.allowed) == (
        "kms.eu-west-1.amazonaws.com",
        "kms",
        "GenerateDataKey",
        True,
    )


def test_aws_cli_through_https_proxy_env(fake: FakeAWS, task: EcsTarget) -> None:
    """A real tool with only HTTPS_PROXY + AWS_CA_BUNDLE (no endpoint override)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HTTP", "NO_PROXY"))}
    env.update(fake.env(endpoint=False))
    env["HOME"] = os.environ.get("TMPDIR", "/tmp")
    done = subprocess.run(
        [sys.executable, "-m", "awscli", "ecs", "describe-tasks", "--cluster", task.cluster_name,
         "--tasks", task.task_arn, "--query", "tasks[0].containers[0].runtimeId",
         "--output", "text"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == task.runtime_id
    key = env["AWS_ACCESS_KEY_ID"]
    assert [(r.service, r.operation) for r in fake.proxy.records(key)] == [("ecs", "DescribeTasks")]


def test_host_outside_the_allow_list_is_refused_and_recorded(fake: FakeAWS) -> None:
    key = "AKIAFAKEPROXYDENY001"
    fake.proxy.set_allowed_hosts(["kms.*.amazonaws.com"], access_key_id=key)
    try:
        with pytest.raises(ClientError) as excinfo:
            _client(fake, "ecs", key).list_clusters()
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert "endpoint-ignored" in excinfo.value.response["Error"]["Message"]
        (record,) = fake.proxy.refusals(key)
        assert (record.host, record.operation, record.reason) == (
            "ecs.eu-west-1.amazonaws.com",
            "ListClusters",
            "endpoint-ignored",
        )
        # Another sandbox's key is not affected by this rule.
        assert _client(fake, "ecs", "AKIAFAKEPROXYOTHER01").list_clusters()["clusterArns"]
    finally:
        fake.proxy.set_allowed_hosts(None, access_key_id=key)


def test_a_served_response_says_the_tunnel_closes(fake: FakeAWS) -> None:
    """moto ends the tunnel after each response; a keep-alive client (Go) that is not told
    sends its next request into the closing connection: "connection reset by peer"."""
    import http.client  # noqa: PLC0415
    import ssl  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415

    assert fake.proxy_url
    where = urlsplit(fake.proxy_url)
    context = ssl.create_default_context(cafile=str(fake.ca_bundle))
    conn = http.client.HTTPSConnection(
        where.hostname or "", where.port, context=context, timeout=10
    )
    conn.set_tunnel("ecs.eu-west-1.amazonaws.com", 443)
    conn.request(
        "POST",
        "/",
        body="{}",
        headers={
            "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAFAKEPROXYKEEP001/20260101/"
            "eu-west-1/ecs/aws4_request, SignedHeaders=host, Signature=0",
        },
    )
    response = conn.getresponse()
    response.read()
    assert response.status == 200
    assert response.getheader("Connection") == "close"
    conn.close()


@pytest.mark.parametrize("url", ["https://example.com/", "http://example.com/path"])
def test_non_aws_hosts_are_refused_not_forwarded(fake: FakeAWS, url: str) -> None:
    assert fake.proxy_url
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": fake.proxy_url, "http": fake.proxy_url})
    )
    with pytest.raises(urllib.error.URLError, match="403"):
        opener.open(url, timeout=10)
    last = fake.proxy.refusals()[-1]
    assert (last.host, last.reason) == ("example.com", "non-aws-host")


def test_missing_openssl_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setattr(proxy.shutil, "which", lambda name: None)
    with pytest.raises(ProxyError, match="needs the openssl binary"):
        proxy.AWSProxy(tmp_path).start()


def test_certificates_are_minted_outside_site_packages(fake: FakeAWS) -> None:
    from moto.moto_proxy.certificate_creator import CertificateCreator  # noqa: PLC0415

    minted = list(Path(CertificateCreator.certdir).glob("*.crt"))
    assert minted == []


# --- resets, TLS refusals, malformed requests (issue 9 item 4, issue 13 low) -------------

_KMS_HOST = "kms.us-east-1.amazonaws.com"


@pytest.fixture(scope="module")
def own_proxy(fake: FakeAWS, tmp_path_factory: pytest.TempPathFactory) -> Iterator[proxy.AWSProxy]:
    """A second proxy with records of its own (moto's backends are the stage's)."""
    server = proxy.AWSProxy(tmp_path_factory.mktemp("certs"))
    server.start()
    yield server
    server.stop()


def _sigv4(key: str) -> str:
    scope = f"{key}/20260101/us-east-1/kms/aws4_request"
    return f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"


def _list_keys_twice(server: proxy.AWSProxy, key: str) -> list[str]:
    """Two requests on one keep-alive ``HTTPSConnection`` through a CONNECT tunnel: a client
    that reuses the connection unless the response says ``Connection: close`` (as Go's does)."""
    host, port = server.address
    context = ssl.create_default_context(cafile=str(proxy.ca_bundle_path()))
    connection = http.client.HTTPSConnection(host, port, context=context, timeout=30)
    connection.set_tunnel(_KMS_HOST, 443)
    seen = []
    try:
        for _ in range(2):
            connection.request(
                "POST", "/", body=b"{}",
                headers={"X-Amz-Target": "TrentService.ListKeys", "Authorization": _sigv4(key),
                         "Content-Type": "application/x-amz-json-1.1"},
            )  # fmt: skip
            response = connection.getresponse()
            response.read()
            seen.append(f"{response.status} {response.getheader('Connection')}")
    finally:
        connection.close()
    return seen


def _wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := predicate()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


def test_responses_say_connection_close_so_a_reused_connection_is_never_reset(
    own_proxy: proxy.AWSProxy,
) -> None:
    """moto closes the tunnel after each answer; without the header the second request of
    a keep-alive client met a closed socket (Go: "connection reset by peer")."""
    assert _list_keys_twice(own_proxy, "AKIAFAKEPROXYKEEP001") == ["200 close", "200 close"]


@pytest.mark.slow
def test_many_concurrent_connect_tls_requests_see_no_reset(own_proxy: proxy.AWSProxy) -> None:
    """A bounded stress: 160 tunnels from 40 threads at once, two requests each."""
    with ThreadPoolExecutor(40) as pool:
        futures = [
            pool.submit(_list_keys_twice, own_proxy, f"AKIAFAKESTRESS{n:06d}") for n in range(160)
        ]
        outcomes = Counter()
        for future in futures:
            try:
                outcomes.update(future.result())
            except OSError as exc:  # resets, EOFs and timeouts all land here
                outcomes[type(exc).__name__] += 1
    assert outcomes == {"200 close": 320}


def _connect(
    server: proxy.AWSProxy, request: bytes, *, port: int | None = None
) -> tuple[socket.socket, bytes]:
    """Send a raw proxy request (to the shared port or ``port``); return the socket and the
    response head."""
    sock = socket.create_connection(("127.0.0.1", port or server.address[1]), timeout=10)
    sock.sendall(request)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return sock, head


@pytest.mark.parametrize("key", ["AKIAFAKEPROXYTLS0001", None])
def test_client_that_does_not_trust_the_ca_is_a_refusal_not_a_traceback(
    own_proxy: proxy.AWSProxy, capfd: pytest.CaptureFixture[str], key: str | None
) -> None:
    """The client's alert (unknown CA) is recorded with its key when the CONNECT carried
    ``Proxy-Authorization`` (a proxy URL ``http://KEY@host:port``), else by host only."""
    auth = b""
    if key is not None:
        auth = b"Proxy-Authorization: Basic " + base64.b64encode(f"{key}:x".encode()) + b"\r\n"
    request = f"CONNECT {_KMS_HOST}:443 HTTP/1.1\r\nHost: {_KMS_HOST}:443\r\n".encode()
    sock, head = _connect(own_proxy, request + auth + b"\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    untrusting = ssl.create_default_context()  # the system's roots only, not moto's CA
    with sock, pytest.raises(ssl.SSLCertVerificationError):
        untrusting.wrap_socket(sock, server_hostname=_KMS_HOST)
    found = _wait_for(lambda: [r for r in own_proxy.refusals(key) if r.reason == "tls-untrusted"])
    assert [(r.host, r.access_key_id, r.allowed) for r in found] == [(_KMS_HOST, key, False)]
    assert "UNKNOWN_CA" in str(found[0].detail)
    own_proxy.reset()
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize(
    ("request_bytes", "host"),
    [
        (b"CONNECT kms.us-east-1.amazonaws.com HTTP/1.1\r\n\r\n", "kms.us-east-1.amazonaws.com"),
        (b"CONNECT kms.us-east-1.amazonaws.com:https HTTP/1.1\r\n\r\n", None),
        (b"GET /no-host HTTP/1.1\r\n\r\n", ""),
    ],
    ids=["connect-without-port", "connect-named-port", "no-host-header"],
)
def test_malformed_requests_are_refused_and_logged(
    own_proxy: proxy.AWSProxy,
    capfd: pytest.CaptureFixture[str],
    request_bytes: bytes,
    host: str | None,
) -> None:
    sock, head = _connect(own_proxy, request_bytes)
    sock.close()
    assert head.startswith(b"HTTP/1.1 400"), head
    (record,) = _wait_for(own_proxy.refusals)
    assert record.reason == "malformed-request" and record.detail
    if host is not None:
        assert record.host == host
    own_proxy.reset()
    assert "Traceback" not in capfd.readouterr().err


def test_a_cells_port_names_its_key_whatever_the_client_sends(
    own_proxy: proxy.AWSProxy, capfd: pytest.CaptureFixture[str]
) -> None:
    """No ``Proxy-Authorization``, no signature: a TLS client that refuses moto's CA and an
    unsigned request for a non-AWS host are both recorded as the key of the port they used."""
    key = "AKIAFAKEPROXYPORT001"
    port = int(own_proxy.url_for(key).rsplit(":", 1)[1])
    assert own_proxy.url_for(key) == f"http://127.0.0.1:{port}"  # one port per key
    assert port != own_proxy.address[1]
    request = f"CONNECT {_KMS_HOST}:443 HTTP/1.1\r\nHost: {_KMS_HOST}:443\r\n\r\n".encode()
    sock, head = _connect(own_proxy, request, port=port)
    assert head.startswith(b"HTTP/1.1 200")
    with sock, pytest.raises(ssl.SSLCertVerificationError):
        ssl.create_default_context().wrap_socket(sock, server_hostname=_KMS_HOST)
    plain = b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n"
    sock, head = _connect(own_proxy, plain, port=port)
    sock.close()
    assert head.startswith(b"HTTP/1.1 403")
    found = _wait_for(lambda: len(own_proxy.refusals(key)) == 2 and own_proxy.refusals(key))
    assert [(r.host, r.reason) for r in found] == [
        (_KMS_HOST, "tls-untrusted"),
        ("example.com", "non-aws-host"),
    ]
    assert own_proxy.refusals(None) == found  # nothing else was seen
    own_proxy.reset()  # closes the cells' ports
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert "Traceback" not in capfd.readouterr().err


def test_the_stage_hands_each_credentials_its_own_proxy_port(fake: FakeAWS) -> None:
    """A Python client with only the sandbox's HTTPS_PROXY, not trusting moto's CA (as a tool
    with its own trust store): its failed handshake is the credentials' refusal."""
    creds = Credentials.new()
    url = fake.env(creds)["HTTPS_PROXY"]
    assert url != fake.proxy_url
    assert url == fake.env(creds)["https_proxy"] != fake.env()["HTTPS_PROXY"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"https": url}))
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        opener.open(f"https://{_KMS_HOST}/", timeout=10)
    found = _wait_for(lambda: fake.proxy.refusals(creds.access_key_id))
    assert [(r.host, r.reason) for r in found] == [(_KMS_HOST, "tls-untrusted")]
