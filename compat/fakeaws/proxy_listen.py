"""The proxy's sockets on 127.0.0.1: a shared port and one per cell, all accepted by one
thread, each connection handled on a thread of its own."""

from __future__ import annotations

import logging
import selectors
import socket
import sys
import threading
from http.server import ThreadingHTTPServer
from socketserver import BaseRequestHandler
from typing import Any

#: Pending connections a port queues (socketserver's default of 5 overflows when a matrix
#: shard's tools dial at once; Linux then drops SYNs and the client stalls 1-3 s).
LISTEN_BACKLOG = 128
_log = logging.getLogger(__name__)


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-request is logged, not printed as a traceback."""

    request_queue_size = LISTEN_BACKLOG

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # reset, broken pipe, timeout, TLS error
            _log.debug("proxy connection from %s ended: %r", client_address, exc)
            return
        _log.error("proxy request from %s failed", client_address, exc_info=True)


class Listeners:
    """The shared port, bound at once, and a port per cell key opened on demand."""

    def __init__(self, handler: type[BaseRequestHandler]) -> None:
        server = _QuietServer(("127.0.0.1", 0), handler)
        # Join handler threads on close instead of leaving daemons behind.
        server.daemon_threads = False
        server.block_on_close = True
        server.socket.setblocking(False)  # a client gone between select and accept: no hang
        self.server = server
        self._selector = selectors.DefaultSelector()
        self._selector.register(server.socket, selectors.EVENT_READ)
        self._lock = threading.Lock()
        self._by_key: dict[str, socket.socket] = {}
        self._key_by_port: dict[int, str] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="smp-compat-proxy")
        self._thread.start()

    def _serve(self) -> None:
        """Accept on the shared port and every cell's; each connection gets its own thread."""
        while not self._stopping.is_set():
            for ready, _ in self._selector.select(timeout=0.1):
                try:
                    connection, address = ready.fileobj.accept()  # type: ignore[union-attr]
                except OSError:  # the client gave up, or the cell's port was just closed
                    continue
                try:
                    self.server.process_request(connection, address)
                except Exception:  # socketserver's own policy for one request
                    self.server.handle_error(connection, address)
                    self.server.shutdown_request(connection)

    def stop(self) -> None:
        """Stop accepting and join the accepting and handler threads (idempotent)."""
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        thread.join()
        self._thread = None
        self.close_cells()
        self._selector.close()
        self.server.server_close()

    def port_for(self, key: str) -> int:
        """The port of the cell whose access key is ``key``, opened on first use."""
        with self._lock:
            listener = self._by_key.get(key)
            if listener is None:
                listener = socket.create_server(("127.0.0.1", 0), backlog=LISTEN_BACKLOG)
                listener.setblocking(False)
                self._by_key[key] = listener
                self._key_by_port[listener.getsockname()[1]] = key
                self._selector.register(listener, selectors.EVENT_READ)
            return int(listener.getsockname()[1])

    def key_of_port(self, port: int) -> str | None:
        """The access key whose :meth:`port_for` this is; None for the shared port."""
        with self._lock:
            return self._key_by_port.get(port)

    def close_cells(self) -> None:
        """Close every cell's port (the shared one stays)."""
        with self._lock:
            listeners = list(self._by_key.values())
            self._by_key.clear()
            self._key_by_port.clear()
            for listener in listeners:
                self._selector.unregister(listener)
                listener.close()

    @property
    def address(self) -> tuple[str, int]:
        """The shared port's ``(host, port)``."""
        host, port = self.server.server_address[:2]
        return str(host), int(port)
