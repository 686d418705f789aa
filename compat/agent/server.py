"""The fake SSM agent/MGS: a websocket server on 127.0.0.1 driving one AgentSession per connection.

Lifecycle after pytest-httpserver's ``HTTPServer`` (start binds port 0 and reads the port back,
stop is idempotent and joins, a second start raises) and websockets' sync server (handler
threads are not daemons; ``shutdown`` closes connections and waits for them).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import traceback
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from compat.agent.errors import AgentError, UnknownSessionError
from compat.agent.kms import KmsDecryptor
from compat.agent.protocol import REFUSED_CLOSE_CODE, AgentConfig, AgentSession, Close
from compat.agent.sessions import SessionRegistry, SessionSpec
from compat.agent.transcript import SessionOutcome, TranscriptDoc, write_atomically
from compat.service import Service

__all__ = ["AgentError", "FakeAgent"]

#: The real path: ``/v1/data-channel/<sid>?role=publish_subscribe`` (docs/plugin.md §3.1).
_PATH = re.compile(r"^/v1/data-channel/(?P<sid>[A-Za-z0-9][A-Za-z0-9._:@+=-]*)$")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
#: Transcript outcome of a session whose websocket was dropped and never resumed.
NOT_RESUMED: SessionOutcome = "not-resumed"
#: Seconds a transcript is still waited for past the caller's deadline while its connection
#: is being served (a bound for a handler stuck on a loaded machine, not an expected time).
SERVING_GRACE = 30.0


class FakeAgent(Service):
    """Serves ``/v1/data-channel/<sessionId>`` for the sessions in ``registry``.

    Args:
        registry: what the control plane promised per session (token, target, key...).
        kms_endpoint_url: moto's URL; the agent's ``kms:Decrypt`` goes there over HTTP.
        transcript_dir: where ``<sessionId>.json`` transcripts are written.
        host: loopback only; anything else raises ``ValueError``.
        port: 0 picks a free port; :attr:`url` tells which.
        handshake_timeout_s: the agent's 15 s handshake and challenge timeouts.
        idle_timeout_s: a session with no client frame for this long is closed.
        shell_start_s: how long after HandshakeComplete the shell refuses input (not ready).
        resend_interval_s: unacked output is sent again after this long.
    """

    def __init__(
        self,
        registry: SessionRegistry,
        kms_endpoint_url: str | None,
        transcript_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        handshake_timeout_s: float = 15.0,
        idle_timeout_s: float = 30.0,
        shell_start_s: float = AgentConfig.shell_start_s,
        resend_interval_s: float = AgentConfig.resend_interval_s,
    ) -> None:
        if host not in _LOOPBACK:
            raise ValueError(f"the fake agent listens on loopback only, not {host!r}")
        self.registry = registry
        self.transcript_dir = Path(transcript_dir)
        self.host = host
        self.port = port
        self.config = AgentConfig(
            handshake_timeout_s=handshake_timeout_s,
            idle_timeout_s=idle_timeout_s,
            shell_start_s=shell_start_s,
            resend_interval_s=resend_interval_s,
        )
        self._kms = KmsDecryptor(kms_endpoint_url)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._done = threading.Condition()
        self._transcripts: dict[str, TranscriptDoc] = {}
        #: Faults of handler threads, with the session each one broke.
        self._errors: list[tuple[str, BaseException]] = []
        #: Sessions whose websocket was dropped on purpose, waiting for the resumed connection.
        self._parked: dict[str, AgentSession] = {}
        #: Session id -> the handler (a token object) serving it; ``None`` while parked.
        self._owner: dict[str, object | None] = {}

    # -- lifecycle --------------------------------------------------------------------------

    start_twice_error = AgentError

    def _start(self) -> None:
        """Bind, read the real port back, and serve from a (non-daemon) thread."""
        self._server = serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._check_path,
            compression=None,
            # MGS answers no pings of its own; the plugin pings every 5 min (§3.1).
            ping_interval=None,
        )
        self.port = int(self._server.socket.getsockname()[1])
        self._thread = self._start_thread(self._server.serve_forever, f"fake-agent:{self.port}")

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:PORT``, the base the registry builds stream URLs on."""
        if self._server is None:
            raise AgentError("FakeAgent is not started; call start() first")
        return f"ws://{self.host}:{self.port}"

    def _stop(self) -> None:
        """Close the listener and every connection, join the threads."""
        self._stopping = True
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        with self._done:
            parked, self._parked = list(self._parked.values()), {}
        for session in parked:
            self._finish(session)

    # -- results ----------------------------------------------------------------------------

    def transcript(self, session_id: str) -> TranscriptDoc | None:
        """The finished transcript of the session's last connection, or None."""
        with self._done:
            return self._transcripts.get(session_id)

    def wait_closed(
        self, session_id: str, timeout: float, *, serving_grace: float = SERVING_GRACE
    ) -> TranscriptDoc | None:
        """Wait until a connection for ``session_id`` has finished; None on timeout.

        A connection still being served at the deadline is waited for up to ``serving_grace``
        seconds more: once its client is gone its handler ends on its own (the websocket
        closes, a KMS call returns), only later on a loaded machine, and giving up early
        would turn a judged session into "no transcript". A session still waiting for its
        resumed connection at the deadline is given as it stands, with the outcome
        ``not-resumed``.
        """
        deadline = time.monotonic() + timeout
        with self._done:
            while session_id not in self._transcripts:
                left = deadline - time.monotonic()
                if left <= 0 and self._owner.get(session_id) is not None:
                    deadline += serving_grace
                    serving_grace = 0.0
                    left = deadline - time.monotonic()
                if left <= 0:
                    parked = self._parked.get(session_id)
                    if parked is None:
                        return None
                    return parked.transcript.to_dict() | {"outcome": NOT_RESUMED}
                self._done.wait(left)
            return self._transcripts[session_id]

    def wait_dropped(self, access_key_id: str, timeout: float) -> bool:
        """Whether a session started with ``access_key_id`` is waiting for its resumed
        connection (its websocket was dropped), waiting up to ``timeout`` s for one to be."""
        deadline = time.monotonic() + timeout
        with self._done:
            while not any(
                s.spec is not None and s.spec.access_key_id == access_key_id
                for s in self._parked.values()
            ):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._done.wait(left)
            return True

    def clear(self) -> None:
        """Forget finished transcripts (not the files) and stored errors, e.g. per cell."""
        with self._done:
            self._transcripts.clear()
            self._errors.clear()

    def check_errors(self) -> None:
        """Re-raise the first fault of a handler thread, like httpserver's check_handler_errors.

        A run does not call this: each fault is also in its session's transcript (``errors``),
        which the cell's verdict reads (``error harness-error`` naming it).
        """
        with self._done:
            if self._errors:
                session_id, exc = self._errors[0]
                raise AgentError(f"the fake agent failed in session {session_id}: {exc!r}") from exc

    # -- serving ----------------------------------------------------------------------------

    def _check_path(self, connection: ServerConnection, request: Request) -> Response | None:
        if _PATH.match(urlsplit(request.path).path):
            return None
        body = b"Not Found\n"
        headers = Headers([("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return Response(404, "Not Found", headers, body)

    def _handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        parts = urlsplit(connection.request.path)
        match = _PATH.match(parts.path)
        assert match is not None
        session_id = match.group("sid")
        try:
            spec = self.registry.get(session_id)
        except UnknownSessionError:
            spec = None
        me = object()
        with self._done:
            parked = self._parked.pop(session_id, None)
            self._owner[session_id] = me
        if parked is not None:
            self._handle_resumed(connection, parked, spec, me)
            return
        session = AgentSession(session_id, spec, self.config, time.monotonic())
        session.transcript.agent["path"] = connection.request.path.split("?")[0]
        session.transcript.agent["role"] = parse_qs(parts.query).get("role", [None])[0]
        try:
            self._serve(connection, session)
        except Exception as exc:
            with self._done:
                self._errors.append((session_id, exc))
            session.fail(time.monotonic(), f"{exc!r}", traceback.format_exc())
            with contextlib.suppress(Exception):
                self._flush(connection, session)
        finally:
            self._release(session, me)

    def _handle_resumed(
        self,
        connection: ServerConnection,
        session: AgentSession,
        spec: SessionSpec | None,
        me: object,
    ) -> None:
        """A connection to a parked session: its OpenDataChannel must carry the new token."""
        try:
            try:
                first = connection.recv(timeout=self.config.handshake_timeout_s)
            except (TimeoutError, ConnectionClosed):
                return
            try:
                body = json.loads(first)
            except ValueError:
                body = None
            if not session.resume(body, spec, time.monotonic()):
                self._park(session)
                with contextlib.suppress(ConnectionClosed):
                    connection.close(REFUSED_CLOSE_CODE, "invalid token")
                return
            if self._flush(connection, session):
                self._serve(connection, session)
        except Exception as exc:
            with self._done:
                self._errors.append((session.session_id, exc))
            session.fail(time.monotonic(), f"{exc!r}", traceback.format_exc())
        finally:
            self._release(session, me)

    def _park(self, session: AgentSession) -> None:
        """Keep a dropped session for its resumed connection (before the old one closes)."""
        with self._done:
            self._parked[session.session_id] = session
            self._owner[session.session_id] = None
            self._done.notify_all()

    def _release(self, session: AgentSession, me: object) -> None:
        """The handler ``me`` is done: finish the session unless it was parked or taken over."""
        with self._done:
            if self._owner.get(session.session_id) is not me:
                return
            del self._owner[session.session_id]
        self._finish(session)

    def _serve(self, connection: ServerConnection, session: AgentSession) -> None:
        while not session.closed:
            now = time.monotonic()
            try:
                frame = connection.recv(timeout=session.next_wakeup(now))
            except TimeoutError:
                frame = None
            except ConnectionClosed:
                outcome: SessionOutcome = (
                    "agent-stopped" if self._stopping else "client-disconnected"
                )
                session.connection_lost(time.monotonic(), outcome)
                return
            now = time.monotonic()
            if isinstance(frame, str):
                session.receive_text(frame, now)
            elif isinstance(frame, bytes):
                session.receive_binary(frame, now)
            while session.pending_kms:
                results = [self._kms.decrypt(request) for request in session.pending_kms]
                session.kms_done(results, time.monotonic())
            session.tick(time.monotonic())
            if not self._flush(connection, session):
                return

    def _flush(self, connection: ServerConnection, session: AgentSession) -> bool:
        """Send what the session queued; False once the websocket is closed."""
        for item in session.take_outgoing():
            try:
                if isinstance(item, Close):
                    if session.awaiting_resume and not session.closed:
                        self._park(session)
                    connection.close(item.code, item.reason)
                    return False
                connection.send(item)
            except ConnectionClosed:
                session.connection_lost(time.monotonic())
                return False
        return True

    def _finish(self, session: AgentSession) -> None:
        if session.transcript.outcome is None:
            session.connection_lost(time.monotonic())
        data = session.transcript.to_dict()
        try:
            write_atomically(self.transcript_dir / f"{session.session_id}.json", data)
        except OSError as exc:
            with self._done:
                self._errors.append((session.session_id, exc))
            data["faults"] = [*data["faults"], f"transcript not written: {exc!r}"]
        with self._done:
            self._transcripts[session.session_id] = data
            self._done.notify_all()
