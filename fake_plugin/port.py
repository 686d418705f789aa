"""Port sessions: basic local port forwarding and standard-stream forwarding.

``SMP:src/sessionmanagerplugin/session/portsession/portsession.go:44-128``,
``basicportforwarding.go:56-197`` and ``standardstreamforwarding.go``. The multiplexed (smux)
forwarding the plugin picks for agents newer than 3.0.196.0 (``config.go:48-50``,
``version/versionvalidator.go``) is not emulated: the fake agent advertises an older agent
version for port sessions, and a newer one here is reported as not emulated.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from fake_plugin.datachannel import ClientDataChannel
from fake_plugin.errors import NotEmulated
from fake_plugin.wire import ClientMessage, Flag, PayloadType

#: config.go StreamDataPayloadSize.
STREAM_DATA_PAYLOAD_SIZE = 1024
TCP_MULTIPLEXING_AFTER = "3.0.196.0"
TERMINATE_FLAG_AFTER = "2.3.722.0"


def agent_newer_than(agent_version: str, threshold: str) -> bool:
    """``isAgentVersionGreaterThanSupportedVersion``: False on anything unparsable."""
    try:
        have = tuple(int(p) for p in agent_version.split("."))
        want = tuple(int(p) for p in threshold.split("."))
    except ValueError:
        return False
    return have > want


def port_parameters(properties: Any) -> dict[str, str]:
    """``PortParameters`` from the SessionType Properties (string fields; others stay "")."""
    names = ("portNumber", "localPortNumber", "localUnixSocket", "localConnectionType", "type")
    result = dict.fromkeys(names, "")
    if isinstance(properties, dict):
        for key, value in properties.items():
            for name in names:
                if key.lower() == name.lower() and isinstance(value, str):
                    result[name] = value
    return result


class PortSession:
    """Forward one local TCP connection at a time (basic), or stdin/stdout (standard stream)."""

    def __init__(
        self,
        *,
        channel: ClientDataChannel,
        session_id: str,
        out: Callable[[str], None],
        write_stdout: Callable[[bytes], None],
        stop: threading.Event,
        terminate_session: Callable[[], None],
        end: Callable[[int], None],
    ) -> None:
        self._channel = channel
        self._sid = session_id
        self._out = out
        self._write_stdout = write_stdout
        self._stop = stop
        self._terminate_session = terminate_session
        self._end = end
        self._params = port_parameters(channel.session_properties)
        self._conn: socket.socket | None = None
        self._listener: socket.socket | None = None
        self.basic = self._params["type"] == "LocalPortForwarding"
        if self.basic and agent_newer_than(channel.agent_version, TCP_MULTIPLEXING_AFTER):
            raise NotEmulated(
                f"agent {channel.agent_version} > {TCP_MULTIPLEXING_AFTER} makes the plugin "
                "use smux port forwarding, which the fake plugin does not emulate"
            )

    def start_handlers(self) -> None:
        """``PortSession.Initialize``: stream data waits until the local side exists."""
        self._channel.drop_stream_data = True
        self._channel.register_handler(self._write)

    def _write(self, message: ClientMessage) -> bool:
        if self.basic:
            conn = self._conn
            if conn is None:
                return False
            try:
                conn.sendall(message.payload)
            except OSError:
                return False
            return True
        self._write_stdout(message.payload)
        return True

    def close(self) -> None:
        """``Stop``: close the local connection (the process then exits 0)."""
        for sock in (self._conn, self._listener):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()

    def run(self) -> str | None:
        """Forward until stopped; returns an error text for ``Cannot perform start session``."""
        if not self.basic:
            return self._run_standard_stream()
        self._install_signal_handlers()
        try:
            self._listener = self._listen()
        except OSError as exc:
            return str(exc)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return None
            if self._conn is None:
                self._out(f"Connection accepted for session {self._sid}.\n")
            self._conn = conn
            self._channel.drop_stream_data = False
            self._pump(conn)
            if self._stop.is_set():
                return None
            # ReadStream: tell the agent, then accept the next connection.
            self._channel.send_flag(Flag.DISCONNECT_TO_PORT)
            with contextlib.suppress(OSError):
                conn.close()
        return None

    def _listen(self) -> socket.socket:
        if self._params["localConnectionType"] == "unix":
            path = self._params["localUnixSocket"]
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(path)
            except OSError as exc:
                sock.close()
                raise OSError(f"listen unix {path}: bind: {exc.strerror}") from None
            sock.listen()
            self._out(f"Unix socket {path} opened for sessionId {self._sid}.\n")
            return sock
        wanted = self._params["localPortNumber"] or "0"
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            # Go listens on "localhost:<n>", which is 127.0.0.1 here.
            sock.bind(("127.0.0.1", int(wanted)))
        except (OSError, ValueError) as exc:
            sock.close()
            reason = exc.strerror if isinstance(exc, OSError) else "invalid port"
            raise OSError(f"listen tcp 127.0.0.1:{wanted}: bind: {str(reason).lower()}") from None
        sock.listen()
        port = sock.getsockname()[1]
        self._out(f"Port {port} opened for sessionId {self._sid}.\n")
        return sock

    def _pump(self, conn: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                data = conn.recv(STREAM_DATA_PAYLOAD_SIZE)
            except OSError:
                return
            if not data:
                return
            self._channel.send_input(PayloadType.OUTPUT, data)
            time.sleep(0.001)

    def _run_standard_stream(self) -> str | None:
        self._channel.drop_stream_data = False
        while not self._stop.is_set():
            try:
                data = os.read(0, STREAM_DATA_PAYLOAD_SIZE)
            except OSError as exc:
                return f"read /dev/stdin: {exc.strerror}"
            if not data:
                return None  # EOF returns normally (handleReadError)
            self._channel.send_input(PayloadType.OUTPUT, data)
            time.sleep(0.001)
        return None

    def _install_signal_handlers(self) -> None:
        # basicportforwarding.go:167-183: the first control signal ends the session.
        if threading.current_thread() is not threading.main_thread():
            return
        fired = threading.Event()

        def on_signal(_signum: int, _frame: Any) -> None:
            if fired.is_set():
                return
            fired.set()
            self._out("Terminate signal received, exiting.\n")
            if agent_newer_than(self._channel.agent_version, TERMINATE_FLAG_AFTER):
                self._channel.send_flag(Flag.TERMINATE_SESSION)
                self._out(f"\n\nExiting session with sessionId: {self._sid}.\n\n")
                self._end(0)
            else:
                threading.Thread(target=self._terminate_session, daemon=True).start()

        for signum in (signal.SIGINT, signal.SIGTSTP, signal.SIGQUIT):
            signal.signal(signum, on_signal)
