"""The proxy's request handler: moto's ``ProxyRequestHandler`` that serves AWS hosts and
refuses, records and never forwards the rest."""

# moto's ``moto_proxy.ProxyRequestHandler`` terminates TLS with a certificate from moto's CA
# and answers from the same in-process backends. This subclass never forwards anything: a
# non-AWS host, or an AWS host outside the caller's allow-list, is refused and recorded.
#
# Resets under load: moto's handler closes the connection after every response without
# saying so, and HTTP/1.1 clients keep it for the next request. Go's transport then writes
# into a closed socket and reads "connection reset by peer" (a POST is not retried). Every
# response here says ``Connection: close``, and moto's 5 s socket timeout (a handshake under
# load) is raised to 30 s.

from __future__ import annotations

import io
import ssl
import time
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

from compat.fakeaws import ids
from compat.fakeaws.proxy_request import (
    ProxyRecord,
    RefusalReason,
    is_aws_host,
    operation,
    proxy_auth_key,
    refusal_answer,
    service,
    split_authority,
)
from compat.fakeaws.proxy_tls import certificates_in, load_moto_proxy

load_moto_proxy()  # before moto's proxy module below: its import sets up logging

from moto.moto_proxy import proxy3  # noqa: E402
from moto.moto_proxy.certificate_creator import CertificateCreator  # noqa: E402

#: Seconds a connection may sit idle mid-request or mid-handshake (moto's is 5).
SOCKET_TIMEOUT_S = 30


class Book(Protocol):
    """What the handler asks the proxy: whose port, which hosts, where records go."""

    def key_of_port(self, port: int) -> str | None: ...

    def is_allowed(self, host: str, access_key_id: str | None) -> bool: ...

    def record(self, entry: ProxyRecord) -> None: ...


class CellHandler(proxy3.ProxyRequestHandler):
    """One connection: a CONNECT tunnel into moto's TLS, or a plain HTTP request."""

    timeout = SOCKET_TIMEOUT_S
    #: Set by :func:`handler_for` on a subclass: the proxy and its certificate creator.
    book: ClassVar[Book]
    certificates: ClassVar[type[CertificateCreator]]

    def setup(self) -> None:
        # moto's __init__ sets its own creator (certs in site-packages) before the base
        # class handles the request; setup() runs after that and before handle().
        super().setup()
        self.cert_creator = self.certificates()
        #: The cell this connection belongs to, by the port it came in on (url_for).
        self.cell_key = self.book.key_of_port(self.connection.getsockname()[1])

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: every request is in ``AWSProxy.records`` instead."""

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection":
            self._said_connection = True
        super().send_header(keyword, value)

    def end_headers(self) -> None:
        # moto closes after every response: say so, or a keep-alive client reuses the
        # connection and its next request meets a reset (see the module comment).
        if self.command != "CONNECT" and not getattr(self, "_said_connection", False):
            self.send_header("Connection", "close")
        super().end_headers()

    # --- CONNECT: a TLS tunnel to an AWS host, terminated by moto ----------------------

    def do_CONNECT(self) -> None:
        target = split_authority(self.path)
        key = self.cell_key or proxy_auth_key(self.headers.get("Proxy-Authorization"))
        if target is None:
            detail = f"CONNECT target {self.path!r} is not host:port"
            self._refuse(self.path, "malformed-request", key=key, detail=detail)
        elif not is_aws_host(target[0]):
            self._refuse(target[0], "non-aws-host", key=key)
        else:
            self._terminate_tls(target[0], key)

    def _terminate_tls(self, host: str, key: str | None) -> None:
        """moto's CONNECT: its certificate for ``host``; a client that refuses it is a
        ``tls-untrusted`` refusal (a tool with its own trust store), not a traceback."""
        try:
            super().do_CONNECT()
        except ssl.SSLError as exc:
            self.close_connection = True
            if "ALERT" not in str(exc.reason or ""):
                raise  # not the client rejecting our certificate: handle_error logs it
            detail = f"TLS handshake failed: the client sent {exc.reason}"
            self._refuse(host, "tls-untrusted", key=key, detail=detail, answer=False)

    # --- plain requests (and those inside a tunnel) --------------------------------------

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.command != "CONNECT" and not self._host_of(self.path):
            detail = "no Host header and no absolute URL"
            self._refuse("", "malformed-request", key=self.cell_key, detail=detail)
            return False
        return True

    def _host_of(self, path: str) -> str:
        return str(self.headers.get("Host") or urlsplit(path).netloc)

    def _get_host_and_path(self, req: Any) -> tuple[str, str]:
        if "Host" not in self.headers:
            self.headers["Host"] = urlsplit(self.path).netloc
        return super()._get_host_and_path(req)

    def do_GET(self) -> None:
        host_url, path = self._get_host_and_path(self)
        host = urlsplit(host_url).hostname or ""
        try:
            body = self._read_body()
        except ValueError as exc:  # a bad Content-Length or chunk size
            detail = f"unreadable body: {exc}"
            self._refuse(host, "malformed-request", key=self.cell_key, detail=detail)
            return
        authorization = self.headers.get("Authorization")
        key = self.cell_key or ids.access_key_id(authorization) or ids.access_key_id(path)
        called = operation(self.headers, path, body)
        refusal = self._policy(host, key)
        if refusal is not None:
            self._refuse(host, refusal, key=key, operation=called)
            return
        self.book.record(
            ProxyRecord(
                time.time(), self.command, host, service(host, authorization), called, key, True
            )
        )
        self._serve_from_moto(body)

    do_HEAD = do_GET
    do_POST = do_GET
    do_PUT = do_GET
    do_PATCH = do_GET
    do_DELETE = do_GET
    do_OPTIONS = do_GET

    def _policy(self, host: str, key: str | None) -> RefusalReason | None:
        """Why ``host`` is not served to ``key``'s cell, or None to serve it from moto."""
        if not is_aws_host(host):
            return "non-aws-host"
        if not self.book.is_allowed(host, key):
            return "endpoint-ignored"
        return None

    def _serve_from_moto(self, body: bytes) -> None:
        """moto's do_GET reads the body from rfile: replay the one read for the record."""
        real = self.rfile
        self.rfile = io.BytesIO(body)
        del self.headers["Transfer-Encoding"]
        del self.headers["Content-Length"]
        self.headers["Content-Length"] = str(len(body))
        try:
            proxy3.ProxyRequestHandler.do_GET(self)
        finally:
            self.rfile = real

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            return bytes(self.read_chunked_body(self.rfile))
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # --- refusals ------------------------------------------------------------------------

    def _refuse(
        self,
        host: str,
        reason: RefusalReason,
        *,
        key: str | None,
        operation: str | None = None,
        detail: str | None = None,
        answer: bool = True,
    ) -> None:
        """Record a refusal and, unless the connection is already lost (``answer=False``),
        answer it with an AWS-shaped error and close."""
        record = ProxyRecord(
            time.time(), str(self.command), host, service(host, None), operation, key,
            False, reason, detail,
        )  # fmt: skip
        self.book.record(record)
        if not answer:
            return
        status, body = refusal_answer(record)
        self.send_response(status, "Refused by smp-compat")
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    # Never forward: moto's passthrough paths are disabled outright.
    def passthrough_http(self, address: tuple[str, int]) -> None:
        self._refuse(address[0], "non-aws-host", key=self.cell_key)

    def connect_relay(self, address: tuple[str, int]) -> None:
        self._refuse(address[0], "non-aws-host", key=self.cell_key)


def handler_for(book: Book, cert_dir: Path) -> type[CellHandler]:
    """A :class:`CellHandler` bound to ``book`` (the proxy), minting into ``cert_dir``."""
    certificates = certificates_in(cert_dir)

    class BoundHandler(CellHandler):
        pass

    BoundHandler.book = book
    BoundHandler.certificates = certificates
    return BoundHandler
