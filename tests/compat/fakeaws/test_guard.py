"""Code under test cannot reset the fake AWS or make it call out (issue 13, "Low").

Each test is the attack a tool under test could make, on 127.0.0.1: ``POST /moto-api/reset``
(which would wipe what concurrent cells were seeded with), ``GET /moto-api/data.json`` (every
cell's resources), and an SNS subscription to an HTTP endpoint, which moto would POST to.
"""

from __future__ import annotations

import http.client
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from compat.fakeaws import FakeAWS
from compat.fakeaws.guard import OutboundRefusedError, install, refusing_outbound
from compat.fakeaws.seed import EcsTarget

pytestmark = pytest.mark.integration


class _Listener:
    """An HTTP server on 127.0.0.1 that counts the requests it gets (the would-be callee)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                listener.hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def listener() -> Iterator[_Listener]:
    found = _Listener()
    found.thread.start()
    try:
        yield found
    finally:
        found.server.shutdown()
        found.server.server_close()


@pytest.fixture(scope="module")
def task(fake: FakeAWS) -> EcsTarget:
    return fake.seed_ecs_task(kms_key=True)


def _post(url: str, path: str, method: str = "POST") -> tuple[int, str]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request(method, path, body=b"", headers={"Host": parts.netloc})
        reply = conn.getresponse()
        return reply.status, reply.read().decode()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/moto-api/reset"),
        ("POST", "/moto-api/reset-auth"),
        ("GET", "/moto-api/data.json"),
        ("POST", "/moto-api/state-manager/set-transition"),
        ("GET", "/moto-api/"),
    ],
)
@pytest.mark.parametrize("endpoint", ["endpoint_url", "ecs_endpoint_url"])
def test_moto_api_is_refused_and_nothing_is_reset(
    fake: FakeAWS, task: EcsTarget, endpoint: str, method: str, path: str
) -> None:
    status, body = _post(getattr(fake, endpoint), path, method)
    assert status == 403, body
    assert "does not serve /moto-api" in body and task.cluster_name not in body
    # What the kit seeded is still there, and the kit can still seed.
    ecs = fake.client("ecs")
    [found] = ecs.describe_tasks(cluster=task.cluster_name, tasks=[task.task_arn])["tasks"]
    assert found["lastStatus"] == "RUNNING"
    assert fake.client("kms").describe_key(KeyId=task.kms_key_id)["KeyMetadata"]["Enabled"]


def test_moto_api_through_the_proxy_under_an_aws_host_resets_nothing(
    fake: FakeAWS, task: EcsTarget
) -> None:
    """The proxy serves AWS hosts only; a /moto-api path under one is not moto's API."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": str(fake.proxy_url)}))
    request = urllib.request.Request(
        "http://ecs.eu-west-1.amazonaws.com/moto-api/reset", data=b"", method="POST"
    )
    try:
        with opener.open(request, timeout=10) as reply:
            status, body = reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read().decode()
    assert status >= 400, body
    ecs = fake.client("ecs")
    assert ecs.describe_tasks(cluster=task.cluster_name, tasks=[task.task_arn])["tasks"]


def _sns_publish_to(sns: Any, url: str) -> ClientError:
    topic = sns.create_topic(Name="smp-guard-topic")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)
    with pytest.raises(ClientError) as caught:
        sns.publish(TopicArn=topic, Message="hello")
    return caught.value


def test_an_sns_http_subscription_is_never_called(fake: FakeAWS, listener: _Listener) -> None:
    error = _sns_publish_to(fake.client("sns"), listener.url)
    assert error.response["Error"]["Code"] == "AccessDeniedException"
    assert "makes no outbound calls" in error.response["Error"]["Message"]
    assert listener.hits == []


def test_no_call_out_through_the_proxy_either(fake: FakeAWS, listener: _Listener) -> None:
    """A proxy-mode tool (aws-sdk-go v1) reaches moto through the proxy's own handler."""
    sns = boto3.client(
        "sns",
        region_name="eu-west-1",
        aws_access_key_id="AKIAFAKEGUARDSNS0001",
        aws_secret_access_key="s" * 40,
        verify=str(fake.ca_bundle),
        config=Config(proxies={"https": str(fake.proxy_url)}, retries={"max_attempts": 1}),
    )
    fake.proxy.set_allowed_hosts(
        frozenset({"sns.eu-west-1.amazonaws.com"}), access_key_id="AKIAFAKEGUARDSNS0001"
    )
    error = _sns_publish_to(sns, listener.url)
    assert error.response["Error"]["Code"] == "AccessDeniedException"
    assert listener.hits == []


def test_only_threads_answering_moto_are_refused(listener: _Listener) -> None:
    """A suite next to the fixture keeps its own ``requests`` calls."""
    install()
    assert requests.post(listener.url, timeout=10).status_code == 200
    with refusing_outbound(), pytest.raises(OutboundRefusedError):
        requests.post(listener.url, timeout=10)
    assert listener.hits == ["/hook"]
