"""Proxy mode: AWS hosts served from moto over TLS with moto's CA; everything else refused."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from compat.fakeaws import FakeAWS, proxy
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
    """The plugin's GenerateDataKey (plugin-spec §2.3) reaches moto at kms.<region>.amazonaws..."""
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
    with pytest.raises(proxy.ProxyError, match="needs the openssl binary"):
        proxy.AWSProxy(tmp_path).start()


def test_certificates_are_minted_outside_site_packages(fake: FakeAWS) -> None:
    from moto.moto_proxy.certificate_creator import CertificateCreator  # noqa: PLC0415

    minted = list(Path(CertificateCreator.certdir).glob("*.crt"))
    assert minted == []
