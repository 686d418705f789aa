"""What a scenario arranges: the forwarded local port is one no other program is handed."""

from __future__ import annotations

import socket
from pathlib import Path

from compat.evidence import free_port
from compat.evidence.arrange import PORTS_FROM


def test_the_local_port_is_free_and_below_the_ephemeral_range() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {free_port() for _ in range(20)}
    assert all(PORTS_FROM <= port < low for port in ports)
    with socket.socket() as sock:  # free: the plugin can bind it
        sock.bind(("127.0.0.1", ports.pop()))
        # and bind(0), as any server on the machine does, is never handed such a port
        other = socket.socket()
        other.bind(("127.0.0.1", 0))
        assert other.getsockname()[1] >= low
        other.close()
