"""Where a unix socket can be bound: a private directory whose path fits ``sun_path``.

Linux limits a socket's path to 107 bytes. ``$TMPDIR`` can be longer than that leaves room
for (pytest's ``tmp_path`` under xdist is 70 bytes before the kit adds its own names), so a
socket directory falls back to ``/tmp`` when ``$TMPDIR`` is too deep.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

__all__ = ["SUN_PATH_MAX", "socket_dir"]

#: The longest path ``bind`` takes for a unix socket on Linux (``sun_path`` is 108 bytes,
#: one of them the terminating NUL).
SUN_PATH_MAX = 107

#: What a caller may put under the directory: ``mkdtemp``'s 8 random characters, a slash
#: and a socket name of up to 24 bytes (``plugin.sock.new``, ``relay.sock``).
_ROOM = 8 + 1 + 24


def socket_dir(prefix: str) -> Path:
    """A new private directory (``mkdtemp``, mode 700) with room for a socket's name."""
    base = tempfile.gettempdir()
    if len(base) + 1 + len(prefix) + _ROOM > SUN_PATH_MAX:
        base = "/tmp"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))
