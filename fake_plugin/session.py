"""Everything the plugin does after ``Starting session with SessionId``: the session client.

``Session.Execute`` and ``OpenDataChannel`` (``SMP:src/sessionmanagerplugin/session/
session.go:221-248``, ``sessionhandler.go:32-163``; docs/plugin.md §1 "After Starting
session", §3): dial the stream URL (5 retries, then wait forever), send the text
OpenDataChannel frame, run the data channel, then the shell or port session it negotiates.
Every byte goes to stdout through ``console.out``; the exit code is 0 on every normal path.
Heavy imports (websockets, cryptography, botocore) happen only here, when a session starts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from fake_plugin import awsconfig, awsjson, kms, port, resume
from fake_plugin.datachannel import RESEND_INTERVAL_S, ClientDataChannel, DataKey
from fake_plugin.errors import NotEmulated, SdkError, SessionCreateError
from fake_plugin.netpolicy import is_loopback, offline, proxy_for
from fake_plugin.shell import ShellSession
from fake_plugin.wire import open_data_channel

if TYPE_CHECKING:
    from fake_plugin.invocation import Invocation
    from fake_plugin.releases import Release

#: gorilla DefaultDialer HandshakeTimeout.
DIAL_TIMEOUT_S = 45.0
#: websocketchannel.go: 5 consecutive read errors make the channel call OnError.
READ_RETRY_ATTEMPTS = 5


class Console(Protocol):
    """The command line's output contract (``fake_plugin/console.py``)."""

    def out(self, text: str) -> None: ...

    def err(self, text: str) -> None: ...


def _text(data: bytes) -> str:
    # Go prints payload bytes as they are; Console encodes with surrogateescape.
    return data.decode("utf-8", "surrogateescape")


class _Client:
    """One session's threads and state around a :class:`ClientDataChannel`."""

    def __init__(
        self,
        invocation: Invocation,
        release: Release,
        console: Console,
        environ: Mapping[str, str],
    ) -> None:
        self.inv = invocation
        self.release = release
        self.console = console
        self.environ = environ
        self.sid = invocation.response.session_id
        self.token = invocation.response.token_value
        self.client_id = str(uuid.uuid4())
        self._out_lock = threading.Lock()
        self._ended = threading.Event()
        self._exit_code = 0
        self.stop = threading.Event()
        self._type_lock = threading.Lock()
        self._type_event = threading.Event()
        self._type_ok = False
        self._ws: object | None = None
        self._ws_lock = threading.Lock()
        #: The error writes return while the dropped connection is still the current one.
        self._dead: str | None = None
        self._internal_error: BaseException | None = None
        self.channel: ClientDataChannel = ClientDataChannel(
            session_id=self.sid,
            target_id=invocation.target,
            client_version=release.version,
            legacy_cli=invocation.legacy_cli,
            decrypted_payload_types=release.decrypted_payload_types,
            send=self._send_frame,
            display=self.display,
            kms=self._kms,
            on_session_type=self._session_type_set,
            on_closed=self._closed,
        )
        self.channel.set_legacy_error(release.legacy_kms_error)

    # -- output and ending ------------------------------------------------------------------

    def out(self, text: str) -> None:
        """Print unless the process has already "exited" (Go's os.Exit stops everything)."""
        with self._out_lock:
            if not self._ended.is_set():
                self.console.out(text)

    def display(self, data: bytes) -> None:
        """``DisplayMessage``: the payload bytes, verbatim."""
        self.out(_text(data))

    def end(self, code: int) -> None:
        """``os.Exit(code)`` from any thread: no more output, main thread returns ``code``."""
        with self._out_lock:
            if self._ended.is_set():
                return
            self._exit_code = code
            self._ended.set()
        self.stop.set()

    def fail(self, exc: BaseException) -> None:
        """An unexpected error in a worker thread: the main thread reports it (exit 2)."""
        if self._internal_error is None:
            self._internal_error = exc
        self.end(2)

    def _closed(self, output: str) -> None:
        # HandleChannelClosedMessage (streaming.go:776-793), then Stop -> os.Exit(0).
        if output == "":
            self.out(f"\n\nExiting session with sessionId: {self.sid}.\n\n")
        else:
            self.out(f"\n\nSessionId: {self.sid} : {output}\n\n")
        self.end(0)

    def _session_type_set(self, ok: bool) -> None:
        with self._type_lock:
            if not self._type_event.is_set():
                self._type_ok = ok
                self._type_event.set()

    # -- AWS calls --------------------------------------------------------------------------

    def _kms(self, key_id: str, context: dict[str, str]) -> DataKey:
        key = kms.generate_data_key(
            key_id,
            context,
            region=self.inv.region,
            profile=self.inv.profile,
            environ=self.environ,
        )
        if len(key.plaintext) != kms.DATA_KEY_BYTES:
            raise NotEmulated(f"KMS returned a {len(key.plaintext)}-byte data key, not 64")
        return DataKey(key.ciphertext, key.plaintext)

    def ssm(self, operation: str) -> dict[str, object] | None:
        """An SSM call at args[6] (Resume/TerminateSession); errors are only logged in Go."""
        service = awsjson.JsonService("ssm", "ssm", "AmazonSSM")
        try:
            config = awsconfig.resolve(self.inv.region, self.inv.profile, self.environ)
            answer = awsjson.call(
                service,
                operation,
                {"SessionId": self.sid},
                config,
                self.environ,
                endpoint=self.inv.endpoint,
            )
        except (SessionCreateError, NotEmulated):
            return None
        except SdkError:
            return None
        return answer if isinstance(answer, dict) else {}

    def terminate_session(self) -> None:
        """``Session.TerminateSession`` (sessionhandler.go:141-163)."""
        self.ssm("TerminateSession")

    # -- websocket --------------------------------------------------------------------------

    def _send_frame(self, frame: bytes) -> None:
        from websockets.exceptions import WebSocketException  # noqa: PLC0415

        with self._ws_lock:
            ws = self._ws
            if self._dead is not None:
                raise resume.SendFailed(self._dead)
            if ws is None:
                return  # "Can't send message: Connection is closed." (logged)
            try:
                ws.send(frame)  # type: ignore[attr-defined]
            except (WebSocketException, OSError):
                return

    def _dial(self) -> object:
        """Open the websocket like gorilla's DefaultDialer; raise OSError-like on failure."""
        from websockets.sync.client import connect  # noqa: PLC0415

        url = self.inv.response.stream_url
        proxy = proxy_for(url, self.environ)
        parts = urlsplit(url)
        host = parts.hostname or ""
        if proxy is not None:
            phost = urlsplit(proxy).hostname or ""
            if not is_loopback(phost):
                raise offline(phost, urlsplit(proxy).port or 80)
        elif not is_loopback(host):
            raise offline(host, parts.port or 443)
        return connect(
            url,
            proxy=proxy,
            compression=None,
            user_agent_header="Go-http-client/1.1",
            open_timeout=DIAL_TIMEOUT_S,
            ping_interval=None,
            ping_timeout=None,
            close_timeout=1,
            max_size=None,
        )

    def _open(self, token: str) -> bool:
        """``DataChannel.Open``: dial, then the text OpenDataChannel frame."""
        try:
            ws = self._dial()
            ws.send(  # type: ignore[attr-defined]
                open_data_channel(
                    token,
                    self.client_id,
                    str(uuid.uuid4()),
                    self.release.version if self.release.sends_client_version else None,
                )
            )
        except Exception:  # any dial/handshake failure is a failed attempt (logged in Go)
            return False
        with self._ws_lock:
            self._ws = ws
            self._dead = None
        threading.Thread(target=self._reader, args=(ws,), name="smp-ws-reader", daemon=True).start()
        return True

    def _with_retries(self, attempt: Callable[[], bool]) -> bool:
        """``RepeatableExponentialRetryer.Call``: first try plus 5 retries, x2 from 100-199 ms."""
        return resume.retry(attempt, self.stop)

    def _reader(self, ws: object) -> None:
        from websockets.exceptions import ConnectionClosed  # noqa: PLC0415

        close_received = False
        try:
            while not self.stop.is_set():
                try:
                    frame = ws.recv()  # type: ignore[attr-defined]
                except ConnectionClosed as exc:
                    close_received = exc.rcvd is not None
                    break
                except OSError:
                    break
                if self.channel.dead:
                    return
                data = frame.encode("utf-8") if isinstance(frame, str) else frame
                with contextlib.suppress(resume.SendFailed):  # an ack: logged in Go
                    self.channel.receive(data)
        except NotEmulated as exc:
            self.fail(exc)
            return
        except Exception as exc:  # never let a thread die silently
            self.fail(exc)
            return
        if self.stop.is_set():
            return
        with self._ws_lock:
            if self._ws is ws:
                self._dead = resume.write_error(close_received)
        self._resume()

    def _resume(self) -> None:
        """OnError: ResumeSession at argv[6] and redial (``fake_plugin/resume.py``)."""

        def timed_out() -> None:
            self.out(f"Session: {self.sid} timed out.\n")
            self.end(0)

        def reopen(token: str) -> bool:
            self.token = token
            return self._open(token)

        try:
            resume.resume(lambda: self.ssm("ResumeSession"), reopen, timed_out, self.stop)
        except Exception as exc:
            self.fail(exc)

    def _resend_loop(self) -> None:
        terminated = False
        try:
            while not self.stop.wait(RESEND_INTERVAL_S):
                try:
                    due = self.channel.resend_due()
                except resume.SendFailed:
                    continue  # "Unable to send stream data message" (logged)
                if due and not terminated:
                    # handleStreamMessageResendTimeout (session.go:104-119), from 1.2.295.0.
                    terminated = True
                    if self.release.resend_timeout_terminates:
                        threading.Thread(target=self.terminate_session, daemon=True).start()
        except Exception as exc:
            self.fail(exc)

    # -- the session ------------------------------------------------------------------------

    def run(self) -> int:
        if not self._with_retries(lambda: self._open(self.token)):
            pass  # logged, and Execute goes on to wait for a session type that never comes
        threading.Thread(target=self._resend_loop, name="smp-resend", daemon=True).start()
        timeout = self.release.client_timeout_s
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._type_event.is_set() and not self._ended.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                self.terminate_session()
                self.out(
                    "Cannot perform start session: client timeout: unable to receive message "
                    f"{self.sid}\n"
                )
                return self._finish(0)
            self._type_event.wait(0.05)
        if self._ended.is_set():
            return self._finish(self._exit_code)
        if not self._type_ok:
            self.out("Cannot perform start session: unable to determine SessionType\n")
            return self._finish(0)
        error = self._run_session()
        if self._ended.is_set():
            return self._finish(self._exit_code)
        if error is not None:
            self.out(f"Cannot perform start session: {error}\n")
        return self._finish(0)

    def _run_session(self) -> str | None:
        if self.channel.session_type == "Port":
            session = port.PortSession(
                channel=self.channel,
                session_id=self.sid,
                out=self.out,
                write_stdout=self.display,
                stop=self.stop,
                terminate_session=self.terminate_session,
                end=self.end,
            )
            session.start_handlers()
            try:
                return session.run()
            finally:
                session.close()
        shell = ShellSession(self.channel, self.display, self.stop)
        shell.start_handlers()
        return shell.run()

    def _finish(self, code: int) -> int:
        self.end(code)
        with self._ws_lock:
            ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.close()  # type: ignore[attr-defined]
        if self._internal_error is not None:
            raise self._internal_error
        return self._exit_code


def run(invocation: Invocation, release: Release, console: Console) -> int:
    """Run the session after ``Starting session…`` has been printed; return the exit code.

    Unexpected internal errors and behaviours the fake does not emulate become one line on
    stderr and exit code 2 (never a traceback).
    """
    # Before the shell installs its handlers, Go's default signal disposition applies: the
    # process dies from SIGINT/SIGTERM/SIGQUIT rather than raising KeyboardInterrupt. A handler
    # the command line installed (it records, then dies by the same signal) is kept.
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP):
            if signal.getsignal(signum) in (signal.default_int_handler, signal.SIG_IGN):
                signal.signal(signum, signal.SIG_DFL)
    import logging  # noqa: PLC0415

    # websockets logs through "websockets"; Python's last-resort handler would reach stderr.
    quiet = logging.getLogger("websockets")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    try:
        client = _Client(invocation, release, console, os.environ)
        return client.run()
    except NotEmulated as exc:
        console.err(f"fake session-manager-plugin: not emulated: {exc}\n")
        return 2
    except Exception as exc:
        console.err(f"fake session-manager-plugin: internal error: {type(exc).__name__}: {exc}\n")
        return 2
