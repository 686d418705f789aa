"""Real parts for the session client's tests: moto server, moto's proxy, the fake agent."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

REPO = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's ThreadedMotoServer on 127.0.0.1 (the fake agent decrypts through it)."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def aws_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(proxy URL, CA bundle): moto proxy mode, through compat's AWSProxy when it exists."""
    if shutil.which("openssl") is None:
        pytest.skip("moto's proxy mode needs the openssl binary")
    try:
        from compat.fakeaws.proxy import AWSProxy, ca_bundle_path  # noqa: PLC0415
    except ImportError:
        AWSProxy = None
    if AWSProxy is not None:
        proxy = AWSProxy(tmp_path_factory.mktemp("certs"))
        proxy.start()
        try:
            yield proxy.url, str(ca_bundle_path())
        finally:
            proxy.stop()
        return
    # Before compat's proxy existed: moto's own handler, unrestricted.
    from moto.moto_proxy.certificate_creator import CertificateCreator  # noqa: PLC0415
    from moto.moto_proxy.proxy3 import ProxyRequestHandler  # noqa: PLC0415

    server = ThreadingHTTPServer(("127.0.0.1", 0), ProxyRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", CertificateCreator.cacert
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def kms_key(moto_server: str) -> str:
    """A symmetric KMS key in moto (account 123456789012, us-east-1); returns its key id."""
    client = boto3.client(
        "kms",
        region_name="us-east-1",
        endpoint_url=moto_server,
        aws_access_key_id="AKIAFAKE",
        aws_secret_access_key="fake",
    )
    key_id: str = client.create_key()["KeyMetadata"]["KeyId"]
    client.create_alias(AliasName="alias/smp-test", TargetKeyId=key_id)
    return key_id


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """A sandbox environment: its own HOME, no AWS settings from the developer's shell."""
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "LANG": "C.UTF-8",
    }
    env.update(extra)
    return env


def run_plugin(
    argv: list[str], env: dict[str, str], *, stdin: Any = subprocess.DEVNULL, timeout: float = 30
) -> subprocess.CompletedProcess[bytes]:
    """``python -m fake_plugin ARGV`` as a subprocess, as a caller would start it."""
    return subprocess.run(
        [sys.executable, "-m", "fake_plugin", *argv],
        env=env,
        stdin=stdin,
        capture_output=True,
        timeout=timeout,
        cwd=str(REPO),
        check=False,
    )
