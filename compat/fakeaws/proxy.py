"""moto's proxy mode, in-process: serves AWS hosts from moto, records and refuses the rest."""

# Why (docs/ecosystem.md §1.6, §2; docs/plugin.md §1.3, §4 "Working recipe"): aws-sdk-go v1
# callers (copilot, ecsk) and the real plugin's KMS client ignore AWS_ENDPOINT_URL and dial
# ``https://<service>.<region>.amazonaws.com`` through HTTPS_PROXY. The handler
# (``proxy_handler``) answers them from the same in-process moto backends and never forwards
# anything; this module is the proxy's face: start and stop, the cells' ports, the allow-lists
# and the records verdicts are read from.
#
# Whose request is it: a signed request names its access key, a TLS handshake or an unsigned
# request does not (``Proxy-Authorization`` only when the proxy URL carries userinfo, and
# botocore sends none without a password: botocore/httpsession.py ``proxy_headers_for``).
# So each cell gets its own listening port on the same proxy (:meth:`AWSProxy.url_for`):
# every client takes a plain ``http://127.0.0.1:PORT``, and the port names the cell whatever
# the client sends. One thread accepts on every port (``proxy_listen``).

from __future__ import annotations

import fnmatch
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path

from compat.fakeaws.errors import ProxyError
from compat.fakeaws.proxy_listen import Listeners
from compat.fakeaws.proxy_request import ProxyRecord, RefusalReason, is_aws_host
from compat.fakeaws.proxy_tls import ca_bundle_path

__all__ = [
    "AWSProxy",
    "ProxyRecord",
    "RefusalReason",
    "ca_bundle_path",
    "is_aws_host",
]


class AWSProxy:
    """An HTTP(S) proxy on 127.0.0.1 that answers AWS hosts from in-process moto."""

    def __init__(self, cert_dir: Path) -> None:
        self._cert_dir = cert_dir
        self._listeners: Listeners | None = None
        self._lock = threading.Lock()
        self._records: list[ProxyRecord] = []
        self._allowed: tuple[str, ...] | None = None
        self._allowed_by_key: dict[str, tuple[str, ...]] = {}

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self._listeners is not None:
            raise ProxyError("the proxy was already started")
        if shutil.which("openssl") is None:
            raise ProxyError(
                "proxy mode needs the openssl binary to mint TLS certificates for AWS hosts "
                "(moto/moto_proxy/certificate_creator.py); install openssl or start FakeAWS "
                "with proxy=False"
            )
        # Lazy: moto's proxy module is imported by the first proxy started, not by the kit.
        from compat.fakeaws.proxy_handler import handler_for  # noqa: PLC0415

        self._listeners = Listeners(handler_for(self, self._cert_dir))
        self._listeners.start()

    def stop(self) -> None:
        """Stop serving and join the serving and handler threads (idempotent)."""
        if self._listeners is not None:
            self._listeners.stop()

    def _started(self) -> Listeners:
        if self._listeners is None:
            raise ProxyError("the proxy is not started")
        return self._listeners

    def url_for(self, access_key_id: str) -> str:
        """A proxy URL of the cell whose key is ``access_key_id``: every connection to it is
        recorded and judged as that key's, signed or not, TLS or not (its own port)."""
        return f"http://127.0.0.1:{self._started().port_for(access_key_id)}"

    def key_of_port(self, port: int) -> str | None:
        """The access key whose :meth:`url_for` port this is; None for the shared port."""
        return None if self._listeners is None else self._listeners.key_of_port(port)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, the value for HTTPS_PROXY/HTTP_PROXY."""
        host, port = self.address
        return f"http://{host}:{port}"

    @property
    def address(self) -> tuple[str, int]:
        return self._started().address

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
        if self._listeners is not None:
            self._listeners.close_cells()
