"""The plugin server reads a launcher's frames from a stream, whatever the pieces they come in.

A launcher in a cell jail's PID namespace cannot signal the plugin itself: it forwards each
signal as a 'K' frame, written as a 5-byte head and a 4-byte payload. When one recv() ended
between the two, the server dropped both halves: the plugin never got the kit's SIGTERM, was
SIGKILLed 5 s later and its record had no end line (the kept evidence of port-forward cells
changed from run to run). This test is that launcher, written in Python against the real
server and the real fake plugin, with the split made on purpose.
"""

from __future__ import annotations

import array
import os
import signal
import socket
import struct
import time
from pathlib import Path

import pytest

from compat.evidence.records import read_records
from compat.launcher import PluginServer
from tests.launcher_stage import HANGING_START, RELEASE, plugin_server

__all__ = ["plugin_server"]

_HEAD = struct.Struct(">cI")
_U32 = struct.Struct(">I")


def _frame(kind: bytes, payload: bytes = b"") -> bytes:
    return _HEAD.pack(kind, len(payload)) + payload


def _read_frame(conn: socket.socket) -> tuple[bytes, int]:
    data = b""
    while len(data) < _HEAD.size + _U32.size:
        chunk = conn.recv(_HEAD.size + _U32.size - len(data))
        assert chunk, "the server closed the connection"
        data += chunk
    kind, _size = _HEAD.unpack_from(data)
    return kind, _U32.unpack_from(data, _HEAD.size)[0]


def _catches(pid: int, sig: int) -> bool:
    """Whether process ``pid`` has a handler for ``sig`` (its SigCgt mask)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(status.split("SigCgt:", 1)[1].split()[0], 16)
    return bool(caught & (1 << (sig - 1)))


def _start(server: PluginServer, record: Path) -> tuple[socket.socket, int, list[int]]:
    """A start sent as the launcher sends it; the connection, the plugin's pid, our fds."""
    assert server.launcher is not None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(20)
    conn.connect(str(server.launcher.socket))
    stdin = os.open(os.devnull, os.O_RDONLY)
    out_r, out_w = os.pipe()
    fds = array.array("i", [stdin, out_w, out_w])
    conn.sendmsg([b"SMP1" + bytes([0b111])], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
    request = b"".join(
        [
            *(_frame(b"A", arg.encode()) for arg in ["session-manager-plugin", *HANGING_START]),
            _frame(b"V", b"PATH=/usr/bin:/bin"),
            _frame(b"P", f"release={RELEASE}\nrecord={record}\n".encode()),
            _frame(b"R"),
        ]
    )
    conn.sendall(request)
    kind, pid = _read_frame(conn)  # same PID namespace as the server: it says the pid
    assert kind == b"P"
    return conn, pid, [stdin, out_r, out_w]


@pytest.mark.integration
def test_a_signal_frame_split_in_two_still_reaches_the_plugin(
    plugin_server: PluginServer, tmp_path: Path
) -> None:
    record = tmp_path / "record.jsonl"
    conn, pid, fds = _start(plugin_server, record)
    try:
        deadline = time.monotonic() + 20
        while not _catches(pid, signal.SIGTERM) and time.monotonic() < deadline:
            time.sleep(0.02)  # its handler, which writes the record's end, is in
        assert _catches(pid, signal.SIGTERM)
        frame = _frame(b"K", _U32.pack(signal.SIGTERM))
        conn.sendall(frame[:5])  # the head: the server must wait for the rest
        time.sleep(0.3)
        conn.sendall(frame[5:])
        assert _read_frame(conn) == (b"S", signal.SIGTERM)  # the plugin died of it
    finally:
        conn.close()
        for fd in fds:
            os.close(fd)
    [line] = read_records(record)
    assert line.get("event") == "end"
    assert line.get("signal") == "SIGTERM" and line.get("exit_code") is None
