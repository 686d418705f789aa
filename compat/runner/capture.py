"""A tool's stdout or stderr copied into a file, kept up to a cap as it is written."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

__all__ = ["CUT_NOTE", "OUTPUT_CAP", "Pump"]

#: Bytes of stdout, and of stderr, kept per run as they are written.
OUTPUT_CAP = 4 * 1024 * 1024
#: The last line of a capped output file.
CUT_NOTE = "\n[smp-compat: output cut at {cap} bytes as it was written]\n"


class Pump(threading.Thread):
    """Copies one stream into a file up to ``cap`` bytes; past it, reads nothing more until
    :attr:`drain` is set (the cell is ending), then discards to the end."""

    def __init__(self, fd: int, path: Path, cap: int) -> None:
        super().__init__(name=f"cell-{path.name}", daemon=True)
        self.fd, self.path, self.cap = fd, path, cap
        self.drain = threading.Event()
        self.truncated = False

    def run(self) -> None:
        written = 0
        with self.path.open("wb") as out:
            while True:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:  # a pty whose last writer closed: EIO
                    break
                if not data:
                    break
                if self.truncated:
                    continue  # draining: the cell is ending
                kept = data[: self.cap - written]
                out.write(kept)
                written += len(kept)
                if len(kept) < len(data):
                    self.truncated = True
                    out.write(CUT_NOTE.format(cap=self.cap).encode())
                    out.flush()
                    self.drain.wait()
        with contextlib.suppress(OSError):
            os.close(self.fd)
