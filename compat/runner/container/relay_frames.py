"""The relay protocol's frames: a kind byte, a big-endian length, the payload (see relay.py)."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field

from compat.runner.errors import RelayProtocolError

__all__ = ["MAX_FRAME", "Header", "encode_frame", "read_frame", "read_header"]

#: A frame larger than this is a protocol error, not a reason to allocate it.
MAX_FRAME = 64 * 1024 * 1024
_HEAD = struct.Struct(">cI")


def encode_frame(kind: bytes, payload: bytes = b"") -> bytes:
    """One frame: ``kind`` (1 byte), big-endian length, payload."""
    return _HEAD.pack(kind, len(payload)) + payload


def _read_exact(conn: socket.socket, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = conn.recv(min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(conn: socket.socket) -> tuple[bytes, bytes] | None:
    """The next frame as ``(kind, payload)``, or None at a clean or abrupt end of stream."""
    head = _read_exact(conn, _HEAD.size)
    if head is None:
        return None
    kind, size = _HEAD.unpack(head)
    if size > MAX_FRAME:
        raise RelayProtocolError(f"frame {kind!r} of {size} bytes exceeds {MAX_FRAME}")
    payload = _read_exact(conn, size) if size else b""
    if payload is None:
        return None
    return kind, payload


@dataclass
class Header:
    argv: list[bytes] = field(default_factory=list)
    env: dict[bytes, bytes] = field(default_factory=dict)
    cwd: bytes | None = None
    tty_fds: int = 0
    rows: int = 0
    cols: int = 0


def read_header(conn: socket.socket) -> Header | None:
    header = Header()
    while True:
        frame = read_frame(conn)
        if frame is None:
            return None
        kind, payload = frame
        if kind == b"A":
            header.argv.append(payload)
        elif kind == b"V":
            name, sep, value = payload.partition(b"=")
            if sep and name:
                header.env[name] = value
        elif kind == b"C":
            header.cwd = payload
        elif kind == b"T" and len(payload) == 5:
            header.tty_fds = payload[0]
            header.rows, header.cols = struct.unpack(">HH", payload[1:])
        elif kind == b"R":
            return header
        else:
            raise RelayProtocolError(f"unexpected frame {kind!r} in the header")
