"""Go's ``http.ProxyFromEnvironment`` rules, and the fake plugin's never-leave-127.0.0.1 guard.

The real plugin's websocket dialer (gorilla ``DefaultDialer``) and its AWS SDK client both pick
a proxy with ``ProxyFromEnvironment`` (docs/plugin.md §3.1, §4;
``SMP:vendor/src/github.com/gorilla/websocket/client.go:130-133``,
``SMP:vendor/src/github.com/aws/aws-sdk-go/aws/session/custom_transport.go:16``), whose rules
live in ``golang.org/x/net/http/httpproxy`` (``proxy.go``). The fake must choose exactly the same
way, and on top of that it must never touch a host that is not loopback: a connection the real
plugin would open to a remote host is emulated as the offline machine's failure instead.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from fake_plugin.errors import OfflineError

_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def _getenv_any(environ: Mapping[str, str], *names: str) -> str:
    # httpproxy.getEnvAny: the first variable that is set and non-empty.
    for name in names:
        value = environ.get(name, "")
        if value:
            return value
    return ""


def _parse_proxy(value: str) -> str | None:
    """httpproxy.parseProxy: a bare ``host:port`` gets an ``http://`` scheme."""
    if not value:
        return None
    scheme = urlsplit(value).scheme
    if scheme not in ("http", "https", "socks5", "socks5h") or "://" not in value:
        value = "http://" + value
    return value


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _split_host_port(text: str) -> tuple[str, str] | None:
    # net.SplitHostPort, only as far as NO_PROXY entries need it.
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or not text[end + 1 :].startswith(":"):
            return None
        return text[1:end], text[end + 2 :]
    if text.count(":") != 1:
        return None
    host, port = text.split(":")
    return host, port


@dataclass(frozen=True)
class _NoProxy:
    everything: bool
    ips: tuple[tuple[str, str], ...]  # (ip or cidr, port)
    domains: tuple[tuple[str, str, bool], ...]  # (".suffix", port, match_host)

    @classmethod
    def parse(cls, value: str) -> _NoProxy:
        ips: list[tuple[str, str]] = []
        domains: list[tuple[str, str, bool]] = []
        for raw in value.split(","):
            entry = raw.strip().lower()
            if not entry:
                continue
            if entry == "*":
                return cls(True, (), ())
            if "/" in entry:
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    pass
                else:
                    ips.append((entry, ""))
                    continue
            split = _split_host_port(entry)
            if split is not None:
                host, port = split
                if not host:
                    continue
            else:
                host, port = entry, ""
            if _ip(host) is not None:
                ips.append((host, port))
                continue
            if not host:
                continue
            if host.startswith("*."):
                host = host[1:]
            match_host = not host.startswith(".")
            if match_host:
                host = "." + host
            domains.append((host, port, match_host))
        return cls(False, tuple(ips), tuple(domains))

    def bypasses(self, host: str, port: str) -> bool:
        if self.everything:
            return True
        ip = _ip(host)
        if ip is not None:
            for pattern, pport in self.ips:
                if "/" in pattern:
                    net = ipaddress.ip_network(pattern, strict=False)
                    if ip.version == net.version and ip in net:
                        return True
                elif ipaddress.ip_address(pattern) == ip and pport in ("", port):
                    return True
        for suffix, pport, match_host in self.domains:
            matches = host.endswith(suffix) or (match_host and host == suffix[1:])
            if matches and pport in ("", port):
                return True
        return False


def proxy_for(url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy URL Go would use for ``url``, or None (httpproxy ``proxyForURL``/``useProxy``).

    ``ws``/``wss`` URLs are looked up as ``http``/``https``, as gorilla does. Loopback
    destinations (``localhost`` and loopback IPs) are never proxied.
    """
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    if scheme == "https":
        proxy = _parse_proxy(_getenv_any(environ, "HTTPS_PROXY", "https_proxy"))
    elif scheme == "http":
        proxy = _parse_proxy(_getenv_any(environ, "HTTP_PROXY", "http_proxy"))
        if proxy is not None and environ.get("REQUEST_METHOD"):
            return None  # Go refuses HTTP_PROXY under CGI (golang.org/s/cgihttpproxy).
    else:
        return None
    if proxy is None:
        return None
    host = (parts.hostname or "").lower()
    port = str(parts.port or _DEFAULT_PORTS[scheme])
    if host == "localhost":
        return None
    ip = _ip(host)
    if ip is not None and ip.is_loopback:
        return None
    if _NoProxy.parse(_getenv_any(environ, "NO_PROXY", "no_proxy")).bypasses(host, port):
        return None
    return proxy


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals: the only hosts the fake may reach."""
    if host.lower() == "localhost":
        return True
    ip = _ip(host)
    return ip is not None and ip.is_loopback


def offline(host: str, port: int | str) -> OfflineError:
    """The :class:`~fake_plugin.errors.OfflineError` for a connection the fake refuses to open
    because ``host`` is not loopback: Go's dial error for an IP literal, else its lookup error."""
    return OfflineError(host, port, literal=_ip(host) is not None)
