"""moto's proxy mode, in-process: serves AWS hosts from moto, records and refuses the rest."""

# Why (docs/ecosystem.md §1.6, §2; docs/plugin.md §1.3, §4 "Working recipe"): aws-sdk-go v1
# callers (copilot, ecsk) and the real plugin's KMS client ignore AWS_ENDPOINT_URL and dial
# ``https://<service>.<region>.amazonaws.com`` through HTTPS_PROXY. moto's
# ``moto_proxy.ProxyRequestHandler`` terminates TLS with a certificate from moto's CA and
# answers from the same in-process backends. This subclass never forwards anything: a
# non-AWS host, or an AWS host outside the caller's allow-list, is refused and recorded.
#
# Resets under load: moto's handler closes the connection after every response without
# saying so, and HTTP/1.1 clients keep it for the next request. Go's transport then writes
# into a closed socket and reads "connection reset by peer" (a POST is not retried). Every
# response here says ``Connection: close``, the listen backlog is raised from
# socketserver's 5, and moto's 5 s socket timeout (a handshake under load) from 5 to 30 s.
#
# Whose request is it: a signed request names its access key, a TLS handshake or an unsigned
# request does not (``Proxy-Authorization`` only when the proxy URL carries userinfo, and
# botocore sends none without a password: botocore/httpsession.py ``proxy_headers_for``).
# So each cell gets its own listening port on the same proxy (:meth:`AWSProxy.url_for`):
# every client takes a plain ``http://127.0.0.1:PORT``, and the port names the cell whatever
# the client sends. One thread accepts on every port.

from __future__ import annotations

import base64
import binascii
import fnmatch
import io
import json
import logging
import selectors
import shutil
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from compat.fakeaws import ids

#: Why a request was refused: not an AWS host at all, or an AWS host the sandbox should have
#: reached through its endpoint override; a client
#: that rejected the proxy's certificate in the TLS handshake (it does not trust moto's CA:
#: no ``AWS_CA_BUNDLE``/``SSL_CERT_FILE`` support), or a request too broken to route.
RefusalReason = Literal["non-aws-host", "endpoint-ignored", "tls-untrusted", "malformed-request"]
_AWS_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")
#: Pending connections the listener queues (socketserver's default of 5 overflows when a
#: matrix shard's tools dial at once; Linux then drops SYNs and the client stalls 1-3 s).
LISTEN_BACKLOG = 128
#: Seconds a connection may sit idle mid-request or mid-handshake (moto's is 5).
SOCKET_TIMEOUT_S = 30
_log = logging.getLogger(__name__)


class ProxyError(RuntimeError):
    """The proxy cannot start (e.g. the ``openssl`` binary is missing)."""


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


def ca_bundle_path() -> Path:
    """moto's CA certificate: the bundle a client needs to trust the proxy's TLS."""
    from moto.moto_proxy.certificate_creator import CertificateCreator  # noqa: PLC0415 - see _handler_class

    return Path(CertificateCreator.cacert)


class AWSProxy:
    """An HTTP(S) proxy on 127.0.0.1 that answers AWS hosts from in-process moto."""

    def __init__(self, cert_dir: Path) -> None:
        self._cert_dir = cert_dir
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._records: list[ProxyRecord] = []
        self._allowed: tuple[str, ...] | None = None
        self._allowed_by_key: dict[str, tuple[str, ...]] = {}
        #: A listening socket per cell (access key), and the key of each such port.
        self._cell_listeners: dict[str, socket.socket] = {}
        self._key_by_port: dict[int, str] = {}
        self._selector: selectors.BaseSelector | None = None
        self._stopping = threading.Event()

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self._server is not None:
            raise ProxyError("the proxy was already started")
        if shutil.which("openssl") is None:
            raise ProxyError(
                "proxy mode needs the openssl binary to mint TLS certificates for AWS hosts "
                "(moto/moto_proxy/certificate_creator.py); install openssl or start FakeAWS "
                "with proxy=False"
            )
        handler = _handler_class(self, self._prepare_cert_dir())
        server = _QuietServer(("127.0.0.1", 0), handler)
        # Join handler threads on close instead of leaving daemons behind.
        server.daemon_threads = False
        server.block_on_close = True
        server.socket.setblocking(False)  # a client gone between select and accept: no hang
        self._server = server
        self._selector = selectors.DefaultSelector()
        self._selector.register(server.socket, selectors.EVENT_READ)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name="smp-compat-proxy")
        self._thread.start()

    def _serve(self) -> None:
        """Accept on the shared port and every cell's; each connection gets its own thread."""
        server, selector = self._server, self._selector
        assert server is not None and selector is not None
        while not self._stopping.is_set():
            for ready, _ in selector.select(timeout=0.1):
                try:
                    connection, address = ready.fileobj.accept()  # type: ignore[union-attr]
                except OSError:  # the client gave up, or the cell's port was just closed
                    continue
                try:
                    server.process_request(connection, address)
                except Exception:  # socketserver's own policy for one request
                    server.handle_error(connection, address)
                    server.shutdown_request(connection)

    def stop(self) -> None:
        """Stop serving and join the serving and handler threads (idempotent)."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        thread.join()
        self._thread = None
        self._close_cell_listeners()
        assert self._selector is not None
        self._selector.close()
        server.server_close()

    def url_for(self, access_key_id: str) -> str:
        """A proxy URL of the cell whose key is ``access_key_id``: every connection to it is
        recorded and judged as that key's, signed or not, TLS or not (its own port)."""
        with self._lock:
            if self._server is None or self._selector is None:
                raise ProxyError("the proxy is not started")
            listener = self._cell_listeners.get(access_key_id)
            if listener is None:
                listener = socket.create_server(("127.0.0.1", 0), backlog=LISTEN_BACKLOG)
                listener.setblocking(False)
                self._cell_listeners[access_key_id] = listener
                self._key_by_port[listener.getsockname()[1]] = access_key_id
                self._selector.register(listener, selectors.EVENT_READ)
            port = listener.getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def key_of_port(self, port: int) -> str | None:
        """The access key whose :meth:`url_for` port this is; None for the shared port."""
        with self._lock:
            return self._key_by_port.get(port)

    def _close_cell_listeners(self) -> None:
        with self._lock:
            listeners = list(self._cell_listeners.values())
            self._cell_listeners.clear()
            self._key_by_port.clear()
            for listener in listeners:
                if self._selector is not None:
                    self._selector.unregister(listener)
                listener.close()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, the value for HTTPS_PROXY/HTTP_PROXY."""
        if self._server is None:
            raise ProxyError("the proxy is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def address(self) -> tuple[str, int]:
        if self._server is None:
            raise ProxyError("the proxy is not started")
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def _prepare_cert_dir(self) -> Path:
        """Our own writable certificate directory: moto's default is inside site-packages."""
        from moto.moto_proxy.certificate_creator import CertificateCreator  # noqa: PLC0415

        self._cert_dir.mkdir(parents=True, exist_ok=True)
        template = Path(CertificateCreator.certdir) / "req.conf.tmpl"
        shutil.copyfile(template, self._cert_dir / "req.conf.tmpl")
        return self._cert_dir

    # --- policy and records ------------------------------------------------------------

    def set_allowed_hosts(
        self, patterns: Iterable[str] | None, *, access_key_id: str | None = None
    ) -> None:
        """Limit which AWS hosts are served (``fnmatch`` patterns, e.g. ``kms.*.amazonaws.com``).

        ``None`` serves every AWS host. With ``access_key_id`` the rule applies to requests
        signed with that key only (one sandbox), overriding the global rule.
        """
        with self._lock:
            if access_key_id is None:
                self._allowed = None if patterns is None else tuple(patterns)
            elif patterns is None:
                self._allowed_by_key.pop(access_key_id, None)
            else:
                self._allowed_by_key[access_key_id] = tuple(patterns)

    def is_allowed(self, host: str, access_key_id: str | None) -> bool:
        with self._lock:
            rule = self._allowed_by_key.get(access_key_id or "", self._allowed)
        return rule is None or any(fnmatch.fnmatch(host.lower(), p.lower()) for p in rule)

    def records(self, access_key_id: str | None = None) -> list[ProxyRecord]:
        """Every request seen, oldest first; only one sandbox's with ``access_key_id``."""
        with self._lock:
            return [r for r in self._records if access_key_id in (None, r.access_key_id)]

    def refusals(self, access_key_id: str | None = None) -> list[ProxyRecord]:
        return [r for r in self.records(access_key_id) if not r.allowed]

    def record(self, entry: ProxyRecord) -> None:
        with self._lock:
            self._records.append(entry)

    def reset(self) -> None:
        """Forget records, allow-lists and the cells' ports (between runs)."""
        with self._lock:
            self._records.clear()
            self._allowed = None
            self._allowed_by_key.clear()
        self._close_cell_listeners()


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-request is logged, not printed as a traceback."""

    request_queue_size = LISTEN_BACKLOG

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # reset, broken pipe, timeout, TLS error
            _log.debug("proxy connection from %s ended: %r", client_address, exc)
            return
        _log.error("proxy request from %s failed", client_address, exc_info=True)


def _proxy_auth_key(value: str | None) -> str | None:
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


def _split_authority(authority: str) -> tuple[str, int] | None:
    """``host:port`` of a CONNECT target; None when the port is missing or not a number."""
    host, sep, port = authority.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host.strip("[]"), int(port)


def _operation(headers: Any, path: str, body: bytes) -> str | None:
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


def _service(host: str, authorization: str | None) -> str | None:
    if authorization and "/aws4_request" in authorization:
        scope = authorization.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
        if len(scope) >= 4:
            return scope[3]
    return host.split(".", 1)[0] if is_aws_host(host) else None


def _handler_class(proxy: AWSProxy, cert_dir: Path) -> type:
    """A ``ProxyRequestHandler`` bound to ``proxy``, importing moto's proxy lazily."""
    root = logging.getLogger()
    before = list(root.handlers)
    # Lazy: moto.moto_proxy runs logging.basicConfig when imported; undone just below.
    from moto.moto_proxy import proxy3  # noqa: PLC0415
    from moto.moto_proxy.certificate_creator import CertificateCreator  # noqa: PLC0415

    for extra in [h for h in root.handlers if h not in before]:
        root.removeHandler(extra)
    logging.getLogger("MOTO_PROXY").setLevel(logging.WARNING)

    class _Certificates(CertificateCreator):
        certdir = f"{cert_dir}/"

    class _Handler(proxy3.ProxyRequestHandler):
        timeout = SOCKET_TIMEOUT_S

        def setup(self) -> None:
            # moto's __init__ sets its own creator (certs in site-packages) before the base
            # class handles the request; setup() runs after that and before handle().
            super().setup()
            self.cert_creator = _Certificates()
            #: The cell this connection belongs to, by the port it came in on (url_for).
            self.cell_key = proxy.key_of_port(self.connection.getsockname()[1])

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: every request is in :meth:`AWSProxy.records` instead."""

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

        def do_CONNECT(self) -> None:
            target = _split_authority(self.path)
            key = self.cell_key or _proxy_auth_key(self.headers.get("Proxy-Authorization"))
            if target is None:
                detail = f"CONNECT target {self.path!r} is not host:port"
                self._refuse(self.path, "malformed-request", key=key, detail=detail)
                return
            host = target[0]
            if not is_aws_host(host):
                self._refuse(host, "non-aws-host", key=key)
                return
            try:
                super().do_CONNECT()
            except ssl.SSLError as exc:
                self.close_connection = True
                if "ALERT" not in str(exc.reason or ""):
                    raise  # not the client rejecting our certificate: handle_error logs it
                # The client refused moto's certificate: a tool with its own trust store.
                detail = f"TLS handshake failed: the client sent {exc.reason}"
                self._record_refusal(host, "tls-untrusted", key=key, detail=detail)

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
            operation = _operation(self.headers, path, body)
            if not is_aws_host(host):
                self._refuse(host, "non-aws-host", key=key, operation=operation)
                return
            if not proxy.is_allowed(host, key):
                self._refuse(host, "endpoint-ignored", key=key, operation=operation)
                return
            proxy.record(
                ProxyRecord(
                    time.time(), self.command, host, _service(host, authorization),
                    operation, key, True,
                )
            )  # fmt: skip
            self._serve_from_moto(body)

        do_HEAD = do_GET
        do_POST = do_GET
        do_PUT = do_GET
        do_PATCH = do_GET
        do_DELETE = do_GET
        do_OPTIONS = do_GET

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

        def _record_refusal(
            self,
            host: str,
            reason: RefusalReason,
            *,
            key: str | None = None,
            operation: str | None = None,
            detail: str | None = None,
        ) -> None:
            proxy.record(
                ProxyRecord(
                    time.time(), str(self.command), host, _service(host, None), operation, key,
                    False, reason, detail,
                )
            )  # fmt: skip

        def _refuse(
            self,
            host: str,
            reason: RefusalReason,
            *,
            key: str | None = None,
            operation: str | None = None,
            detail: str | None = None,
        ) -> None:
            self._record_refusal(host, reason, key=key, operation=operation, detail=detail)
            if reason == "malformed-request":
                status, kind, why = 400, "ValidationException", detail or "malformed request"
            else:
                status, kind = 403, "AccessDeniedException"
                why = (
                    "the tool should have used AWS_ENDPOINT_URL / --endpoint-url"
                    if reason == "endpoint-ignored"
                    else "only AWS hosts are served"
                )
            message = f"smp-compat proxy refused {host} ({reason}): nothing leaves this machine; "
            body = json.dumps({"__type": kind, "message": message + why}).encode()
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

    return _Handler
