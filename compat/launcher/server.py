"""The warm plugin server: serves each native launcher's start in a forked child.

Why: a fake plugin start through the Python shim pays the interpreter's start and, for a
session, the imports of websockets, botocore and cryptography, every time; AWS's binary starts
in milliseconds. This process imports all of it once per run, then for each start forks a
child that becomes the plugin: the launcher's fds as 0, 1, 2 and its cwd, its argv (as
``sys.argv``), environment, umask, signal dispositions and mask, resource limits; then
``fake_plugin.program.main`` runs exactly as under the shim and writes the same record.

Fork-safety: the server is a process of its own with one thread (it never starts one), so a
fork copies no lock held by another thread; the child resets what the server set up (signal
handlers, the wakeup fd) and closes every fd it does not own, as ``exec`` would.

Protocol (one connection per plugin start)::

    launcher -> server
      5 bytes  "SMP1", then a flags byte: bit i (i < 3) = fd i is open, bit 3 = a cwd fd
               follows; sent with SCM_RIGHTS carrying those fds in that order
      frames   type:1 byte, length:uint32 big-endian, payload:
        'M'  umask:u32, ignored signals:u64, blocked signals:u64 (bit n = signal n),
             n:u32, then n pairs of (soft:u64, hard:u64) resource limits (RLIMIT_* order)
        'A'  one argv element (argv[0] first: the path the launcher was executed by)
        'V'  one environment entry, NAME=value
        'P'  the launcher's configuration text (``release=``, ``record=`` lines)
        'R'  end of the request: the server forks the plugin now
        'K'  (after 'R') u32: a signal the launcher received; sent on to the plugin
    server -> launcher
        'P'  u32: the plugin's pid, once forked: the launcher then signals it directly (not
             sent to a launcher in another PID namespace, where that pid means nothing)
        'X'  u32: the plugin exited with this code     'S'  u32: it died of this signal
             (either ends the start)

When the launcher's connection drops before the plugin ended (the tool killed it, or its
process group was killed), the server kills the plugin's process group: nothing outlives the
process the tool started. When the server's stdin reaches EOF (the run that started it has
ended or died), it kills every plugin still running and exits.

Run as ``python -I -c ... SOCKET`` by :class:`compat.launcher.PluginServer`; it prints
``ready`` on stdout once it listens. It imports ``fake_plugin`` and the standard library only.
"""

from __future__ import annotations

import array
import contextlib
import gc
import importlib
import os
import selectors
import signal
import socket
import struct
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from compat.launcher.child import Request, serve_child
from compat.launcher.errors import LaunchRequestError

#: What a session start would import (the reason for this server): imported once, here.
PRELOAD = (
    "fake_plugin.program",
    "fake_plugin.argv",
    "fake_plugin.gojson",  # argv imports it lazily, once argv holds JSON
    "fake_plugin.record",
    "fake_plugin.releases",
    "fake_plugin.invocation",
    "fake_plugin.session",
    "fake_plugin.crypto",
    "websockets.sync.client",
    "websockets.exceptions",
    "botocore.auth",
    "botocore.awsrequest",
    "botocore.credentials",
    "json",
    "traceback",
)
HELLO = b"SMP1"
MAX_FRAME = 16 * 1024 * 1024
#: Seconds a launcher may take to send its request (it sends it at once).
REQUEST_TIMEOUT = 10.0
_HEAD = struct.Struct(">cI")
_U32 = struct.Struct(">I")
_STATE = struct.Struct(">IQQI")
_LIMIT = struct.Struct(">QQ")


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise LaunchRequestError("connection closed in the request")
        data += chunk
    return data


def read_request(conn: socket.socket) -> Request:
    """The request of a new connection (its fds are owned by the returned object)."""
    request = Request()
    fds = array.array("i")
    msg, ancdata, _flags, _addr = conn.recvmsg(len(HELLO) + 1, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    received = list(fds)
    try:
        if len(msg) < len(HELLO) + 1:
            msg += _recv_exact(conn, len(HELLO) + 1 - len(msg))
        if msg[:4] != HELLO:
            raise LaunchRequestError(f"not a launcher: {msg[:4]!r}")
        flags = msg[4]
        wanted = [fd for fd in range(3) if flags & (1 << fd)]
        if len(received) != len(wanted) + (1 if flags & 8 else 0):
            raise LaunchRequestError(f"{len(received)} fds for flags {flags:#x}")
        request.fds = dict(zip(wanted, received, strict=False))
        if flags & 8:
            request.cwd_fd = received[-1]
        received = []
        _read_frames(conn, request)
    except BaseException:
        for fd in received:
            os.close(fd)
        request.close_fds()
        raise
    return request


def _read_frames(conn: socket.socket, request: Request) -> None:
    while True:
        kind, size = _HEAD.unpack(_recv_exact(conn, _HEAD.size))
        if size > MAX_FRAME:
            raise LaunchRequestError(f"frame {kind!r} of {size} bytes")
        payload = _recv_exact(conn, size) if size else b""
        if kind == b"A":
            request.argv.append(payload)
        elif kind == b"V":
            name, sep, value = payload.partition(b"=")
            if sep and name:
                request.env[name] = value
        elif kind == b"P":
            for entry in payload.decode("utf-8", "surrogateescape").splitlines():
                key, eq, setting = entry.partition("=")
                if eq:
                    request.config[key] = setting
        elif kind == b"M" and len(payload) >= _STATE.size:
            request.umask, request.ignored, request.blocked, count = _STATE.unpack_from(payload)
            offset = _STATE.size
            for _ in range(count):
                if offset + _LIMIT.size > len(payload):
                    raise LaunchRequestError("short resource limits")
                request.limits.append(_LIMIT.unpack_from(payload, offset))
                offset += _LIMIT.size
        elif kind == b"R":
            if not request.argv:
                raise LaunchRequestError("no argv")
            return
        else:
            raise LaunchRequestError(f"unexpected frame {kind!r} in the request")


# -- the server loop --------------------------------------------------------------------------


@dataclass
class _Start:
    conn: socket.socket
    pid: int
    #: What arrived of a frame whose rest is still on its way (a stream has no boundaries).
    pending: bytearray = field(default_factory=bytearray)


class Server:
    """The accept loop: one thread, a selector, SIGCHLD through the wakeup fd."""

    def __init__(self, listener: socket.socket) -> None:
        self.listener = listener
        self.selector = selectors.DefaultSelector()
        self.by_pid: dict[int, _Start] = {}
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def run(self) -> None:
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: self._exit())
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        self.selector.register(0, selectors.EVENT_READ, "control")
        while True:
            for key, _ in self.selector.select():
                if key.data == "accept":
                    self._accept()
                elif key.data == "wake":
                    with contextlib.suppress(BlockingIOError):
                        while os.read(self.wake_r, 512):
                            pass
                elif key.data == "control":
                    if not os.read(0, 512):
                        self._exit()
                else:
                    self._from_launcher(key.data)
            self._reap()

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        conn.settimeout(REQUEST_TIMEOUT)
        try:
            request = read_request(conn)
        except (LaunchRequestError, OSError) as exc:
            _say(f"smp-compat plugin server: refused a start: {exc}\n")
            conn.close()
            return
        owned = [self.listener, conn, *(s.conn for s in self.by_pid.values())]
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child ends in os._exit
            for fd in (self.wake_r, self.wake_w):
                os.close(fd)
            os._exit(serve_child(request, owned))
        request.close_fds()
        if _same_pid_namespace(conn):
            with contextlib.suppress(OSError):
                conn.sendall(b"P" + _U32.pack(4) + _U32.pack(pid))
        conn.setblocking(False)
        start = _Start(conn, pid)
        self.by_pid[pid] = start
        self.selector.register(conn, selectors.EVENT_READ, start)

    def _from_launcher(self, start: _Start) -> None:
        try:
            data = start.conn.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            # The launcher is gone (killed): so is the plugin it stood for.
            _kill_group(start.pid)
            self._forget(start)
            return
        # The launcher writes a frame's head and payload apart, so one recv() may end inside a
        # 'K' frame: its rest comes with the next. (Dropping that part lost the SIGTERM of a
        # launcher in a cell jail, and the plugin its record's end: SIGKILL 5 s later.)
        start.pending += data
        while len(start.pending) >= _HEAD.size:
            kind, size = _HEAD.unpack_from(start.pending)
            if size > _U32.size:  # not a frame the launcher sends after 'R': nothing to trust
                start.pending.clear()
                return
            if len(start.pending) < _HEAD.size + size:
                return
            payload = bytes(start.pending[_HEAD.size : _HEAD.size + size])
            del start.pending[: _HEAD.size + size]
            if kind == b"K" and size == _U32.size:
                with contextlib.suppress(ProcessLookupError, ValueError, OSError):
                    os.kill(start.pid, _U32.unpack(payload)[0])

    def _reap(self) -> None:
        while self.by_pid:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            start = self.by_pid.pop(pid, None)
            if start is None:
                continue
            # What the plugin left in its group holds no pipe of the caller's open past its end.
            _kill_group(pid)
            code = os.waitstatus_to_exitcode(status)
            frame = b"S" + _U32.pack(-code) if code < 0 else b"X" + _U32.pack(code)
            with contextlib.suppress(OSError):
                start.conn.setblocking(True)
                start.conn.sendall(frame[:1] + _U32.pack(4) + frame[1:])
            self._forget(start)

    def _forget(self, start: _Start) -> None:
        """Close the launcher's connection; a plugin not yet reaped stays in ``by_pid``."""
        if start.conn.fileno() >= 0:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(start.conn)
            start.conn.close()

    def _exit(self) -> None:
        for pid in list(self.by_pid):
            _kill_group(pid)
        raise SystemExit(0)


def _same_pid_namespace(conn: socket.socket) -> bool:
    """Whether the launcher at the other end sees our pids: one in a cell jail's PID
    namespace (compat/isolation/jail.c) does not, so it gets no 'P' frame and its signals
    come through the server as 'K' frames. Unknown (no /proc): assumed the same."""
    try:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        peer = struct.unpack("3i", creds)[0]
        mine = Path("/proc/self/ns/pid").readlink()
        return Path(f"/proc/{peer}/ns/pid").readlink() == mine
    except OSError:
        return True


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _say(text: str) -> None:
    with contextlib.suppress(OSError):
        os.write(2, text.encode("utf-8", "backslashreplace"))


def preload() -> list[str]:
    """Import :data:`PRELOAD`; the names that failed (a missing extra: that path stays lazy)."""
    failed = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            failed.append(name)
    return failed


def main(argv: list[str] | None = None) -> int:
    """``server.py SOCKET``: listen, preload, say ``ready``, serve until stdin closes."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        _say("usage: python -m compat.launcher.server SOCKET\n")
        return 2
    preload()
    # Children then never scan (so never copy) the pages of what was imported here.
    gc.freeze()
    if threading.active_count() != 1:
        _say("smp-compat plugin server: a preloaded module started a thread; not forking\n")
        return 2
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Bound and listening under another name first: the socket appears ready or not at all
    # (a launcher finding no socket, or a refusal, execs its shim).
    staging = Path(args[0] + ".new")
    try:
        listener.bind(str(staging))
    except OSError as exc:
        _say(f"smp-compat plugin server: cannot listen on {staging}: {exc.strerror or exc}\n")
        return 1
    listener.listen(64)
    staging.rename(args[0])
    os.write(1, b"ready\n")
    try:
        Server(listener).run()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
