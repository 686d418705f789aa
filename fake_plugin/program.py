"""The fake ``session-manager-plugin`` program: argv and environment in, output and exit code out.

``main`` mirrors ``SMP:src/sessionmanagerplugin-main/main.go:25-27``: one call to
``ValidateInputAndStartSession`` (:func:`fake_plugin.argv.validate`), then the data channel
(``fake_plugin.session.run``, imported only on that path). Exit codes are the real ones: 0 on
every normal path, 2 on a Go panic (docs/plugin.md §1), death by the signal otherwise. The
command-line branches import only small local modules, never ``json`` or the session stack.
"""

from __future__ import annotations

import os
import sys

from fake_plugin import argv as contract
from fake_plugin import gopanic, versions
from fake_plugin.console import Console
from fake_plugin.errors import BrokenPipe, UnknownReleaseError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType

    from fake_plugin.record import Recorder

#: Prefix of the fake's own diagnostics (never printed by the real plugin).
PREFIX = "session-manager-plugin (smp-compat fake)"
#: Printed by the real plugin once the response parsed (``session.go:221-248``, ``Execute``).
STARTING = "\nStarting session with SessionId: {}\n"
#: Signals after which the record is still written (the harness kills hung plugins).
RECORDED_SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP")
_handlers_installed = False


def main(
    argv: list[str] | None = None,
    *,
    release: str | None = None,
    record_path: str | None = None,
    console: Console | None = None,
) -> int:
    """Run the fake plugin once; returns the exit code (dies by a signal as Go would)."""
    args = [os.fsencode(a) for a in (sys.argv if argv is None else argv)] or [b""]
    console = console or Console()
    environ = os.environ
    version = release or environ.get(versions.RELEASE_ENV) or versions.DEFAULT_RELEASE
    path = record_path or environ.get("SMP_COMPAT_RECORD") or None
    recorder: Recorder | None = None
    if path:
        from fake_plugin.record import Recorder  # noqa: PLC0415 - only when recording

        recorder = Recorder(path, program="fake", release=version, args=args, environ=environ)
    try:
        return _run(args, version, console, recorder)
    except BrokenPipe:
        _finish(recorder, console, None, "SIGPIPE")
        _die("SIGPIPE")
    except KeyboardInterrupt:
        _finish(recorder, console, None, "SIGINT")
        _die("SIGINT")
    except Exception as exc:  # never a Python traceback on the caller's terminal
        _internal_error(console, recorder, exc)
    return 2


def _run(args: list[bytes], version: str, console: Console, recorder: Recorder | None) -> int:
    try:
        versions.check(version)
    except UnknownReleaseError as exc:
        console.err(f"{PREFIX}: {exc} (from --release or {versions.RELEASE_ENV})\n")
        if recorder:
            recorder.set(branch="unknown-release", release=None)
        _finish(recorder, console, 2)
        return 2
    outcome = contract.validate(args, version, os.environb)
    if recorder:
        fields = outcome.parsed.fields() if outcome.parsed else None
        recorder.set(branch=outcome.branch, parsed=fields)
    if outcome.panic is not None:
        console.err(gopanic.render(outcome.panic, version, len(args)))
        _finish(recorder, console, gopanic.PANIC_EXIT_CODE)
        return gopanic.PANIC_EXIT_CODE
    if not outcome.starts_session:
        console.out(outcome.stdout)
        _finish(recorder, console, 0)
        return 0
    parsed = outcome.parsed
    assert parsed is not None and parsed.session_id is not None
    if recorder:
        recorder.scrubber.add(parsed.token_value or "")
        _record_on_signals(recorder, console)
        recorder.start()
    console.out(STARTING.format(parsed.session_id))
    code = _start_session(parsed, version, console)
    _finish(recorder, console, code)
    return code


def _start_session(parsed: contract.Parsed, version: str, console: Console) -> int:
    """Hand the typed invocation to the data-channel client (``fake_plugin.session.run``)."""
    if sys.flags.no_site:
        # The shim starts Python with -I -S for a fast start; the session stack
        # (websockets, cryptography, botocore) lives in site-packages.
        import site  # noqa: PLC0415

        site.main()
    from fake_plugin import releases  # noqa: PLC0415
    from fake_plugin.invocation import Invocation, StartSessionResponse  # noqa: PLC0415

    invocation = Invocation(
        response=StartSessionResponse(
            session_id=parsed.session_id or "",
            stream_url=parsed.stream_url or "",
            token_value=parsed.token_value or "",
        ),
        region=parsed.region,
        operation=parsed.operation,
        profile=parsed.profile,
        target=parsed.target,
        endpoint=parsed.endpoint,
        legacy_cli=parsed.legacy_cli,
        env_var_name=parsed.env_var_name,
    )
    try:
        from fake_plugin.session import run  # noqa: PLC0415
    except ImportError as exc:
        console.err(
            f"{PREFIX}: the data-channel session client is not available ({exc}); "
            "the command line was valid but no session can be opened\n"
        )
        return 2
    return int(run(invocation, releases.get(version), console))


def _finish(
    recorder: Recorder | None, console: Console, code: int | None, signal: str | None = None
) -> None:
    if recorder is None or recorder.written:
        return
    if not _handlers_installed:
        # No handler: a signal kills us with its default action, between whole writes.
        recorder.finish(
            stdout=console.stdout_text, stderr=console.stderr_text, exit_code=code, signal=signal
        )
        return
    import signal as signals  # noqa: PLC0415 - already imported by _record_on_signals

    # A kill arriving while the line is written must not write a second record.
    blocked = {getattr(signals, name) for name in RECORDED_SIGNALS}
    old = signals.pthread_sigmask(signals.SIG_BLOCK, blocked)
    try:
        recorder.finish(
            stdout=console.stdout_text, stderr=console.stderr_text, exit_code=code, signal=signal
        )
    finally:
        signals.pthread_sigmask(signals.SIG_SETMASK, old)


def _record_on_signals(recorder: Recorder, console: Console) -> None:
    """SIGTERM/SIGINT/SIGHUP during a session: record (exit code null), then die by it."""
    import signal as signals  # noqa: PLC0415

    def handler(signum: int, frame: FrameType | None) -> None:
        name = signals.Signals(signum).name
        _finish(recorder, console, None, name)
        _die(name)

    global _handlers_installed  # noqa: PLW0603 - one process, one set of handlers
    for name in RECORDED_SIGNALS:
        signals.signal(getattr(signals, name), handler)
    _handlers_installed = True


def _die(name: str) -> None:
    """End the process by ``name`` with its default action, as the Go runtime does."""
    import signal as signals  # noqa: PLC0415

    signum = getattr(signals, name)
    signals.signal(signum, signals.SIG_DFL)
    signals.pthread_sigmask(signals.SIG_UNBLOCK, {signum})
    os.kill(os.getpid(), signum)
    os._exit(128 + signum)  # only if the signal did not end us


def _internal_error(console: Console, recorder: Recorder | None, exc: BaseException) -> None:
    """A bug in the fake: one line for the caller, the traceback only in the record."""
    try:  # noqa: SIM105 - contextlib costs more to import than the whole fast path
        console.err(f"{PREFIX}: internal error: {type(exc).__name__}: {exc}\n")
    except BrokenPipe:
        pass
    if recorder is not None:
        import traceback  # noqa: PLC0415

        recorder.set(internal_error="".join(traceback.format_exception(exc)))
        _finish(recorder, console, 2)


def run() -> None:
    """``python -m fake_plugin`` and the shim."""
    raise SystemExit(main())
