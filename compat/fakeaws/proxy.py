"""moto's proxy mode, in-process: serves AWS hosts from moto, records and refuses the rest."""

# Why (ecosystem.md §1.6, §2; plugin-spec.md §1.3, §4 "Working recipe"): aws-sdk-go v1
# callers (copilot, ecsk) and the real plugin's KMS client ignore AWS_ENDPOINT_URL and dial
# ``https://<service>.<region>.amazonaws.com`` through HTTPS_PROXY. moto's
# ``moto_proxy.ProxyRequestHandler`` terminates TLS with a certificate from moto's CA and
# answers from the same in-process backends. This subclass never forwards anything: a
# non-AWS host, or an AWS host outside the caller's allow-list, is refused and recorded.

from __future__ import annotations

import fnmatch
import io
import json
import logging
import shutil
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
#: reached through its endpoint override (DESIGN.md, "Never touch a real account").
RefusalReason = Literal["non-aws-host", "endpoint-ignored"]
_AWS_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


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
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        # Join handler threads on close instead of leaving daemons behind (STYLE.md §3).
        server.daemon_threads = False
        server.block_on_close = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="smp-compat-proxy", kwargs={"poll_interval": 0.1}
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and join the serving and handler threads (idempotent)."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        thread.join()
        self._thread = None

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
        """Forget records and allow-lists (between runs)."""
        with self._lock:
            self._records.clear()
            self._allowed = None
            self._allowed_by_key.clear()


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
        def setup(self) -> None:
            # moto's __init__ sets its own creator (certs in site-packages) before the base
            # class handles the request; setup() runs after that and before handle().
            super().setup()
            self.cert_creator = _Certificates()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: every request is in :meth:`AWSProxy.records` instead."""

        def do_CONNECT(self) -> None:
            host = self.path.rsplit(":", 1)[0]
            if not is_aws_host(host):
                self._refuse(host, "non-aws-host")
                return
            super().do_CONNECT()

        def do_GET(self) -> None:
            host_url, path = self._get_host_and_path(self)
            host = urlsplit(host_url).hostname or ""
            body = self._read_body()
            authorization = self.headers.get("Authorization")
            key = ids.access_key_id(authorization) or ids.access_key_id(path)
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
            self._closing = True
            try:
                proxy3.ProxyRequestHandler.do_GET(self)
            finally:
                self.rfile = real
                self._closing = False

        _closing = False

        def end_headers(self) -> None:
            # moto closes the tunnel after every response (proxy3 do_GET sets close_connection)
            # without saying so: a keep-alive client (Go's net/http: copilot, ecspresso) then
            # sends its next request into a closing connection and gets "connection reset by
            # peer". Saying so makes it open a new tunnel instead.
            if self._closing:
                self.send_header("Connection", "close")
            super().end_headers()

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", ""):
                return bytes(self.read_chunked_body(self.rfile))
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _refuse(
            self,
            host: str,
            reason: RefusalReason,
            *,
            key: str | None = None,
            operation: str | None = None,
        ) -> None:
            proxy.record(
                ProxyRecord(
                    time.time(), self.command, host, _service(host, None), operation, key,
                    False, reason,
                )
            )  # fmt: skip
            message = (
                f"smp-compat proxy refused {host} ({reason}): nothing leaves this machine; "
                + (
                    "the tool should have used AWS_ENDPOINT_URL / --endpoint-url"
                    if reason == "endpoint-ignored"
                    else "only AWS hosts are served"
                )
            )
            body = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
            self.send_response(403, "Forbidden by smp-compat")
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.close_connection = True

        # Never forward: moto's passthrough paths are disabled outright.
        def passthrough_http(self, address: tuple[str, int]) -> None:
            self._refuse(address[0], "non-aws-host")

        def connect_relay(self, address: tuple[str, int]) -> None:
            self._refuse(address[0], "non-aws-host")

    return _Handler
