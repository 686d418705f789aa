"""The host side of the plugin relay: a container's ``session-manager-plugin`` runs the shim here.

Why a relay: an image need not have Python (a Go tool's image, a distroless one), yet the fake
plugin is a Python program whose record, release and KMS client must be exactly those of a
host run. So the container gets a tiny static C program (``relay.c``, built here with the
host's ``gcc -static``) as ``session-manager-plugin``; it forwards its argv, environment, cwd
and stdio over a unix socket to :class:`RelayServer`, which runs the real shim as a subprocess
with exactly that argv and environment. The record file therefore has the same shape as on the
host (same argv, env, cwd; ``stdin_isatty`` true when the container's stdin is a terminal,
because the host side then gives the shim a pty).

Protocol (one connection per plugin start; every message is a frame)::

    frame   = type:1 byte, length:uint32 big-endian, payload:length bytes

    relay -> host, header, in this order:
      'A'  one argv element (argv[0] first; bytes as given, no terminator)
      'V'  one environment entry, ``NAME=value`` (all of environ, minus SMP_COMPAT_RELAY_SOCKET)
      'C'  the working directory (absent if getcwd failed)
      'T'  5 bytes: bit i of byte 0 = fd i is a terminal; rows:uint16, cols:uint16
      'R'  end of header: the host starts the shim now
    relay -> host, then:
      'I'  bytes read from the relay's stdin      'i'  stdin reached EOF (empty payload)
           (both only after the host's 'G')
      'K'  uint32: a signal the relay received (INT, TERM, HUP, QUIT, USR1, USR2); the host
           sends it to the shim's process
    host -> relay:
      'G'  stdin wanted (empty payload): the relay starts reading its stdin and forwarding
           it; sent at most once, before any other frame, and only for a session start
      'O'  bytes for the relay's stdout           'E'  bytes for its stderr
      'X'  uint32: the shim exited with this code: the relay exits with it
      'S'  uint32: the shim died of this signal: the relay raises it on itself
      'F'  a message: the host could not start the shim, or the relay broke the protocol: the
           relay prints it, exits 127

Why 'G': a process reading a pipe takes bytes out of it for good, and a caller's stdin is shared
by every plugin start it makes. The AWS CLI first runs ``session-manager-plugin`` with no
argument (its install check), then the session start, both with its own stdin; the real plugin
reads stdin only in a session (``session.go:145-161``: argv of 1 to 3 elements prints the
install text, the version or ``Unknown operation`` and returns), so on a host a scripted stdin
is all there for the second start. A relay reading eagerly would hand those bytes to the first
shim, which never reads them, and the session would wait for input that never comes. So the
host, where the protocol decisions live, answers the header with 'G' only when argv has at
least :data:`STDIN_MIN_ARGV` elements, the plugin's own rule; the relay leaves its stdin
untouched otherwise (the shim's stdin is then a pipe that stays empty and open until the end).
What remains different from a host: a start of 4 or more elements that the plugin ends early
(a malformed response, ``Invalid Operation``) may have had stdin read ahead by the relay, and
those bytes are gone for a later start.

If the connection drops (the container was killed), the host kills the shim's process group;
if the host goes away, the relay prints one line to stderr and exits 255. When the relay's
stdin is a terminal it switches it to raw mode and the host's pty does the line discipline,
as ``ssh -t`` does; window-size changes after the start are not forwarded.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import queue
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import termios
import threading
from collections.abc import Iterator
from pathlib import Path

from compat.runner.container.relay_build import RELAY_SOURCE, build_relay
from compat.runner.container.relay_frames import Header as _Header
from compat.runner.container.relay_frames import (
    encode_frame,
    read_frame,
    read_header,
)
from compat.runner.errors import RelayProtocolError
from compat.service import Service
from compat.sockets import socket_dir

__all__ = [
    "CONTAINER_DIR",
    "RELAY_SOURCE",
    "STDIN_MIN_ARGV",
    "RelayServer",
    "build_relay",
    "encode_frame",
    "read_frame",
]

#: Where the relay directory (socket + ``bin/session-manager-plugin``) is mounted in a container.
CONTAINER_DIR = "/.smp-compat"
#: The shortest argv (program name included) for which the plugin can read stdin: below it,
#: ``session.go:145-161`` prints a text and returns (the length rule of ``LegacyArgumentLength``;
#: docs/plugin.md §1.1). The host sends 'G' only at or above it.
STDIN_MIN_ARGV = 4
_U32 = struct.Struct(">I")


class _Session:
    """One relayed plugin start: the shim subprocess and the pumps around it."""

    def __init__(self, conn: socket.socket, target: Path, fallback_cwd: Path) -> None:
        self.conn = conn
        self.target = target
        self.fallback_cwd = fallback_cwd
        self.send_lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.master = -1
        self.stdin_queue: queue.Queue[bytes | None] = queue.Queue()
        #: Whether the relay was sent 'G' (may forward stdin).
        self.stdin_wanted = False

    def send(self, kind: bytes, payload: bytes = b"") -> None:
        with self.send_lock, contextlib.suppress(OSError):
            self.conn.sendall(encode_frame(kind, payload))

    def run(self) -> None:
        try:
            header = read_header(self.conn)
            if header is None or not header.argv:
                return
            try:
                self.proc = self._spawn(header)
            except OSError as exc:
                self.send(b"F", f"smp-compat relay: cannot start {self.target}: {exc}\n".encode())
                return
            if len(header.argv) >= STDIN_MIN_ARGV:
                # First frame to the relay: no output pump runs yet.
                self.stdin_wanted = True
                self.send(b"G")
            self._serve(self.proc)
        except RelayProtocolError as exc:
            self.send(b"F", f"smp-compat relay: {exc}\n".encode())
        finally:
            if self.proc is not None and self.proc.poll() is None:
                _kill_group(self.proc.pid)
                self.proc.wait()
            with contextlib.suppress(OSError):
                self.conn.close()

    def _spawn(self, header: _Header) -> subprocess.Popen[bytes]:
        cwd: bytes | Path = self.fallback_cwd
        if header.cwd and os.path.isdir(header.cwd):  # noqa: PTH112 - a bytes path
            cwd = header.cwd
        stdio: list[int] = [subprocess.PIPE, subprocess.PIPE, subprocess.PIPE]
        slave = -1
        if header.tty_fds & 0b111:
            # A terminal in the container is a terminal for the shim (its record says so).
            self.master, slave = pty.openpty()
            if header.rows and header.cols:
                size = struct.pack("HHHH", header.rows, header.cols, 0, 0)
                fcntl.ioctl(self.master, termios.TIOCSWINSZ, size)
            for fd in range(3):
                if header.tty_fds & (1 << fd):
                    stdio[fd] = slave
        try:
            return subprocess.Popen(
                header.argv,
                executable=self.target,
                stdin=stdio[0],
                stdout=stdio[1],
                stderr=stdio[2],
                env=header.env,
                cwd=cwd,
                start_new_session=True,
            )
        except OSError:
            if self.master >= 0:
                os.close(self.master)
                self.master = -1
            raise
        finally:
            if slave >= 0:
                os.close(slave)

    def _serve(self, proc: subprocess.Popen[bytes]) -> None:
        pumps = [
            threading.Thread(target=self._pump, args=(kind, fd), name=f"relay-out-{kind!r}")
            for kind, fd in self._outputs(proc)
        ]
        pumps.append(threading.Thread(target=self._feed, args=(proc,), name="relay-stdin"))
        waiter = threading.Thread(target=self._finish, args=(proc, pumps[:-1]), name="relay-wait")
        for thread in pumps:
            thread.start()
        waiter.start()
        try:
            while True:
                frame = read_frame(self.conn)
                if frame is None:
                    break
                kind, payload = frame
                if kind in (b"I", b"i") and not self.stdin_wanted:
                    raise RelayProtocolError(f"stdin frame {kind!r} before 'G'")
                if kind == b"I":
                    self.stdin_queue.put(payload)
                elif kind == b"i":
                    self.stdin_queue.put(None)
                elif kind == b"K" and len(payload) == 4:
                    with contextlib.suppress(ProcessLookupError, ValueError):
                        proc.send_signal(_U32.unpack(payload)[0])
                else:
                    raise RelayProtocolError(f"unexpected frame {kind!r} after the header")
        except RelayProtocolError as exc:
            # Said before the shim is killed below: the relay ends on the first of F, X, S.
            self.send(b"F", f"smp-compat relay: {exc}\n".encode())
        except OSError:
            pass
        finally:
            # Connection gone: the relay (its container) ended; so does the shim.
            if proc.poll() is None:
                _kill_group(proc.pid)
            self.stdin_queue.put(None)
            waiter.join()
            pumps[-1].join(timeout=5)

    def _outputs(self, proc: subprocess.Popen[bytes]) -> Iterator[tuple[bytes, int]]:
        if self.master >= 0:
            yield b"O", self.master
        if proc.stdout is not None:
            yield b"O", proc.stdout.fileno()
        if proc.stderr is not None:
            yield b"E", proc.stderr.fileno()

    def _pump(self, kind: bytes, fd: int) -> None:
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the pty's last slave closed
                return
            if not data:
                return
            self.send(kind, data)

    def _feed(self, proc: subprocess.Popen[bytes]) -> None:
        while True:
            data = self.stdin_queue.get()
            if data is None:
                break
            try:
                if self.master >= 0:
                    os.write(self.master, data)
                elif proc.stdin is not None:
                    proc.stdin.write(data)
                    proc.stdin.flush()
            except OSError:
                continue
        if self.master >= 0:
            with contextlib.suppress(OSError):
                os.write(self.master, b"\x04")  # EOF on a terminal is ^D
        elif proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    def _finish(self, proc: subprocess.Popen[bytes], pumps: list[threading.Thread]) -> None:
        code = proc.wait()
        # What the shim left in its group holds no pipe open past its end (the host runner
        # kills a cell's group likewise).
        _kill_group(proc.pid)
        for thread in pumps:
            thread.join(timeout=5)
        if self.master >= 0:
            with contextlib.suppress(OSError):
                os.close(self.master)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        if code < 0:
            self.send(b"S", _U32.pack(-code))
        else:
            self.send(b"X", _U32.pack(code))
        with contextlib.suppress(OSError):
            self.conn.shutdown(socket.SHUT_WR)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class RelayServer(Service):
    """Answers relay connections on a unix socket by running ``target`` (the sandbox's shim).

    ``directory`` (mount it at :data:`CONTAINER_DIR`) holds ``relay.sock`` and
    ``bin/session-manager-plugin`` (the static relay), in a :func:`compat.sockets.socket_dir`
    (a unix socket path is limited to 107 bytes). A :class:`compat.service.Service`: its stop joins
    every thread, killing shims still running.
    """

    def __init__(self, target: Path, relay_binary: Path, *, fallback_cwd: Path) -> None:
        self.target = target
        self.relay_binary = relay_binary
        self.fallback_cwd = fallback_cwd
        self.directory: Path | None = None
        #: How many plugin starts were relayed (a test's evidence that the relay was used).
        self.connections = 0
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._sessions: list[tuple[_Session, threading.Thread]] = []

    def _start(self) -> None:
        directory = socket_dir("smp-relay-")
        self.directory = directory
        # Rootless engines map the container's root to another uid: it must reach the socket.
        directory.chmod(0o755)
        (directory / "bin").mkdir(mode=0o755)
        shutil.copy2(self.relay_binary, directory / "bin" / "session-manager-plugin")
        self._listener = listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(directory / "relay.sock"))
        (directory / "relay.sock").chmod(0o777)
        listener.listen(16)
        self._thread = self._start_thread(self._accept, "relay-accept")

    def _accept(self) -> None:
        assert self._listener is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            while not self._stopping.is_set():
                if not selector.select(timeout=0.1):
                    continue
                try:
                    conn, _ = self._listener.accept()
                except OSError:
                    continue
                self.connections += 1
                session = _Session(conn, self.target, self.fallback_cwd)
                thread = threading.Thread(target=session.run, name="relay-session")
                self._sessions.append((session, thread))
                thread.start()

    def _stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for session, thread in self._sessions:
            # A session ends when its relay's connection does: cut the ones still open (their
            # shims are killed), so no thread outlives the server.
            with contextlib.suppress(OSError):
                session.conn.shutdown(socket.SHUT_RDWR)
            thread.join()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
