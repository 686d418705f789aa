"""Evidence that reads the same on every run: what varies between runs becomes a placeholder.

A report's evidence is committed, so a second run on the same commit must write the same bytes.
What differs between two runs of one cell, and what it becomes:

- the ids the fake AWS made for the cell (task id, runtime id, cluster and task family names,
  instance id, service) and its credentials: ``<task_id>``, ``<runtime_id>``, … by the name of
  the adapter placeholder that carries them (``adapters/README.md``);
- session ids: ``<session-1>``, ``<session-2>`` in the order the cell's sessions were opened;
- the sandbox and scratch directories, the kit's Python, the tool cache and the working
  directory: ``<sandbox>``, ``<work>``, ``<python>``, ``<cache>``, ``<cwd>``;
- ports on 127.0.0.1 (the fake AWS, its proxy, the agent; the forwarded port is
  ``<local_port>``): ``<port-1>``… by first appearance; UUIDs (KMS key ids, client ids):
  ``<uuid-1>``…; timestamps (ISO and HTTP dates): ``<time>``; fake access keys:
  ``<access_key_id>``; moto's request ids: ``<request-id>``; the shell marker: ``<marker>``;
- in JSON evidence, the values of :data:`VOLATILE_KEYS` (times, durations, pids, request ids):
  ``"<varies>"``.

One :class:`Masker` serves a whole cell, so a placeholder means the same value in every file
of it, and numbering follows a fixed file order.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from compat.cache import cache_dir

__all__ = ["VARIES", "VOLATILE_KEYS", "Masker", "host_masker", "host_paths"]

#: What a volatile JSON value becomes.
VARIES = "<varies>"
#: JSON keys whose values differ on every run of the same cell (plugin record, transcript).
VOLATILE_KEYS = frozenset(
    {"started_at", "ended_at", "duration_s", "t", "pid", "client_id", "request_id"}
)

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_PORT = re.compile(r"(?<=\b127\.0\.0\.1:)\d+|(?<=\blocalhost:)\d+")
_TIME = re.compile(r"\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?")
_HTTP_DATE = re.compile(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\b")
#: moto's request ids (52 letters and digits), in response metadata a tool passes on.
_REQUEST_ID = re.compile(r"\b[A-Za-z0-9]{52}\b")
_ACCESS_KEY = re.compile(r"\bAKIAFAKE[A-Z0-9]{12}\b")
#: Session ids the cell did not name (a session of the fake AWS's own shape).
_SESSION = re.compile(r"\becs-execute-command-[0-9a-f]{17}\b")
#: A run's scratch directory (``compat.cmd.run``), wherever the temporary directory is.
_SCRATCH = re.compile(r"(?:/[^/\s'\"]+)*/smp-compat-run-[A-Za-z0-9_]+")
#: Names the fake AWS makes up (``compat/fakeaws/seed.py``), if one was not named below.
_SEEDED = re.compile(r"\bsmp-(?:cluster|task)-\d+-[0-9a-f]{6}\b")


class Masker:
    """Replaces a cell's volatile values by stable placeholders, in text and in JSON."""

    def __init__(self, known: Mapping[str, str], sessions: Iterable[str] = ()) -> None:
        """``known``: value -> placeholder (empty values are ignored); ``sessions``: the
        cell's session ids, oldest first."""
        self._known = {value: mark for value, mark in known.items() if value}
        self._numbered: dict[str, dict[str, str]] = {}
        for sid in sessions:
            self._number("session", sid)
        self._refresh()

    def _number(self, kind: str, value: str) -> str:
        seen = self._numbered.setdefault(kind, {})
        if value not in seen:
            seen[value] = f"<{kind}-{len(seen) + 1}>"
            self._known.setdefault(value, seen[value])
        return seen[value]

    def _refresh(self) -> None:
        # Longest first, so a runtime id (``<task id>-<digits>``) wins over its task id.
        values = sorted(self._known, key=len, reverse=True)
        alternation = "|".join(re.escape(v) for v in values)
        self._literal = (
            re.compile(f"(?<![A-Za-z0-9])(?:{alternation})(?![A-Za-z0-9])") if values else None
        )

    def text(self, text: str) -> str:
        """``text`` with every volatile value replaced."""
        if self._literal is not None:
            text = self._literal.sub(lambda m: self._known[m.group(0)], text)
        text = _SCRATCH.sub("<work>", text)
        text = _SESSION.sub(self._numbering("session"), text)
        text = _SEEDED.sub(self._numbering("name"), text)
        text = _UUID.sub(self._numbering("uuid"), text)
        text = _PORT.sub(self._numbering("port"), text)
        text = _ACCESS_KEY.sub("<access_key_id>", text)
        text = _REQUEST_ID.sub("<request-id>", text)
        text = _HTTP_DATE.sub("<time>", text)
        return _TIME.sub("<time>", text)

    def _numbering(self, kind: str) -> Callable[[re.Match[str]], str]:
        def mark(match: re.Match[str]) -> str:
            return self._number(kind, match.group(0))

        return mark

    def json(self, value: Any) -> Any:
        """A copy of a JSON value with :data:`VOLATILE_KEYS` values and every string masked."""
        if isinstance(value, dict):
            return {
                k: VARIES if k in VOLATILE_KEYS and v is not None else self.json(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value


def host_paths() -> dict[str, str]:
    """This machine's paths a report may meet -> placeholder: the tool cache, the kit's
    virtualenv (not a system Python's prefix: ``/usr`` would mask every system path) and the
    working directory (a repository's checkout, whose tools may be on PATH; not ``/`` or a
    top-level directory)."""
    paths = {str(cache_dir()): "<cache>"}
    if sys.prefix != sys.base_prefix:
        paths[sys.prefix] = "<python>"
    cwd = Path.cwd()
    if len(cwd.parts) > 2:
        paths.setdefault(str(cwd), "<cwd>")
    return paths


def host_masker() -> Masker:
    """A masker for text that belongs to no one cell's evidence (a cell's detail)."""
    return Masker(host_paths())
