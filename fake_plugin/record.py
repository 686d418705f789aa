"""The invocation record: one JSON line per plugin start, appended atomically, never a secret.

Enabled by ``SMP_COMPAT_RECORD=FILE`` (or the shim's ``--record``). The schema is documented in
README.md ("The fake plugin"); :data:`SCHEMA_VERSION` changes when a field changes meaning.
A session start also writes a start line (:meth:`Recorder.start`) before it dials, so a reader
knows the process owes an end line even if it is killed before it can write one.
Each line is written by one ``os.write`` under an exclusive ``flock``, so concurrent starts
(a matrix runs cells in parallel) never interleave or leave half a line.
"""

from __future__ import annotations

import os
import time
from _json import encode_basestring_ascii as encode_string

from fake_plugin import redact

SCHEMA_VERSION = 1
RECORD_ENV = "SMP_COMPAT_RECORD"
#: Longest stdout/stderr kept in a record (the head); longer output sets ``*_truncated``.
MAX_CAPTURE = 256 * 1024

#: Environment names recorded: everything the plugin or its SDK reads (docs/plugin.md §4),
#: the proxy settings, and smp-compat's own knobs.
_ENV_PREFIXES = ("AWS_", "SMP_COMPAT_")
_ENV_NAMES = frozenset(
    {
        "HOME",
        "PATH",
        "TERM",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "all_proxy",
    }
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    # The record's contract, for readers (``compat.evidence``) and type checkers; defined
    # only there, because ``typing`` costs the plugin's start a few milliseconds.
    from collections.abc import Mapping
    from typing import Literal, NotRequired, TypedDict

    class ParsedFields(TypedDict):
        """What the plugin understood from argv (``argv.Parsed.fields``): never a secret."""

        region: str
        operation: str
        profile: str
        target: str
        endpoint: str
        legacy_cli: bool
        env_var_mode: bool
        env_var_name: str | None
        env_var_set: bool
        session_id: str | None
        stream_url: str | None

    class PluginRecord(TypedDict):
        """One line of the record file: a session's start line, or the whole record at the end.

        A real binary's wrapper records argv only (``parsed`` and ``branch`` stay ``None``).
        """

        schema: int
        #: Absent in records of older kits.
        event: NotRequired[Literal["start", "end"]]
        #: ``fake`` or the wrapper of a real binary.
        program: str
        release: str | None
        argv: list[str]
        argc: int
        branch: str | None
        parsed: ParsedFields | None
        stdin_isatty: bool
        cwd: str | None
        env: dict[str, str]
        pid: int
        started_at: str
        # The end line only:
        stdout: NotRequired[str | None]
        stdout_truncated: NotRequired[bool]
        stderr: NotRequired[str | None]
        stderr_truncated: NotRequired[bool]
        exit_code: NotRequired[int | None]
        signal: NotRequired[str | None]
        ended_at: NotRequired[str]
        duration_s: NotRequired[float]
        internal_error: NotRequired[str]
        real_binary: NotRequired[str]


def relevant_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Names and values worth recording; secret values become ``<redacted>``."""
    out: dict[str, str] = {}
    for name in sorted(environ):
        if not (name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES):
            continue
        value = environ[name]
        if redact.is_secret_env(name):
            value = redact.REDACTED
        elif name.lower().endswith("_proxy"):
            value = redact.redact_url_userinfo(value)
        out[name] = value
    return out


def timestamp(seconds: float) -> str:
    """RFC 3339 UTC with microseconds, without importing ``datetime``."""
    micros = round(seconds * 1_000_000) % 1_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"


class Recorder:
    """Collects one start's facts and appends the line once, however the process ends."""

    def __init__(
        self,
        path: str,
        *,
        program: str,
        release: str | None,
        args: list[bytes],
        environ: Mapping[str, str],
    ) -> None:
        self.path = path
        self.started = time.time()
        self.written = False
        self.scrubber = redact.Scrubber()
        argv: list[str] = [args[0].decode("utf-8", "surrogateescape")] if args else []
        for index, arg in enumerate(args[1:], start=1):
            shown, secrets = redact.redact_json_arg(arg, whole_if_unparsed=index == 1)
            self.scrubber.add(*secrets)
            argv.append(shown)
        for name, value in environ.items():
            if redact.is_secret_env(name):
                self.scrubber.add(value)
                if name.upper().startswith(redact.ENV_RESPONSE_PREFIX):
                    shown, secrets = redact.redact_json_arg(
                        value.encode("utf-8", "surrogateescape"), whole_if_unparsed=True
                    )
                    self.scrubber.add(*secrets)
        try:
            cwd: str | None = os.getcwd()  # noqa: PTH109 - pathlib is not imported here
        except OSError:
            cwd = None
        self.fields: dict[str, object] = {
            "schema": SCHEMA_VERSION,
            "program": program,
            "release": release,
            "argv": argv,
            "argc": len(args),
            "branch": None,
            "parsed": None,
            "stdin_isatty": os.isatty(0),
            "cwd": cwd,
            "env": relevant_env(environ),
            "pid": os.getpid(),
        }

    def start(self) -> None:
        """Append the start line: the fields known now, ``"event": "start"``. The end line
        (:meth:`finish`) has the same ``pid`` and ``started_at``. Errors go to stderr."""
        line = dict(self.fields, event="start", started_at=timestamp(self.started))
        try:
            append_line(self.path, self.scrubber.tree(line))
        except OSError as exc:
            _say(f"smp-compat fake plugin: cannot write record to {self.path}: {exc}\n")

    def set(self, **fields: object) -> None:
        """Add or replace top-level fields (branch, parsed, error…)."""
        self.fields.update(fields)

    def finish(
        self,
        *,
        stdout: str | None,
        stderr: str | None,
        exit_code: int | None,
        signal: str | None = None,
    ) -> None:
        """Append the record (once). Errors writing it go to stderr, never a traceback."""
        if self.written:
            return
        self.written = True
        ended = time.time()
        record = dict(self.fields)
        for name, value in (("stdout", stdout), ("stderr", stderr)):
            shown = None if value is None else self.scrubber.text(value)
            record[name + "_truncated"] = shown is not None and len(shown) > MAX_CAPTURE
            record[name] = None if shown is None else shown[:MAX_CAPTURE]
        record.update(
            event="end",
            exit_code=exit_code,
            signal=signal,
            started_at=timestamp(self.started),
            ended_at=timestamp(ended),
            duration_s=round(ended - self.started, 6),
        )
        try:
            append_line(self.path, self.scrubber.tree(record))
        except OSError as exc:
            _say(f"smp-compat fake plugin: cannot write record to {self.path}: {exc}\n")


def dumps(value: object) -> str:
    """Compact ASCII JSON of a record (str, int, float, bool, None, list, dict).

    ``json`` itself costs several milliseconds to import (``json.decoder`` pulls in ``re``);
    its C string encoder is all a record needs.
    """
    if isinstance(value, str):
        return encode_string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        items = (f"{encode_string(str(k))}:{dumps(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise TypeError(f"not JSON-serializable in a record: {type(value).__name__}")


def append_line(path: str, record: object) -> None:
    """Append ``record`` as one JSON line: exclusive ``flock``, one ``os.write``, or nothing."""
    import fcntl  # noqa: PLC0415 - only when recording

    line = (dumps(record) + "\n").encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        written = os.write(fd, line)
        if written != len(line):
            # Disk full or a signal mid-write: take the partial line back out.
            os.ftruncate(fd, size)
            raise OSError(f"short write ({written} of {len(line)} bytes)")
    finally:
        os.close(fd)


def _say(text: str) -> None:
    try:  # noqa: SIM105 - contextlib costs more to import than the whole fast path
        os.write(2, text.encode("utf-8", "surrogateescape"))
    except OSError:
        pass
