"""A recording wrapper around a real ``session-manager-plugin`` binary (``shim --real``).

The real plugin runs as a child with the wrapper's own stdin, stdout and stderr (a TTY stays
a TTY, nothing is piped or buffered), so the caller sees exactly what the binary does. The
record has argv, environment and exit code; stdout and stderr are ``null`` because capturing
them would change what the plugin sees. A child killed by a signal kills the wrapper by the
same signal, so the caller observes the real outcome.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from fake_plugin.record import Recorder

#: Forwarded to the child; SIGINT/SIGQUIT/SIGTSTP come from the terminal to the whole
#: process group already, so the wrapper ignores them and lets the real plugin decide.
FORWARDED = (signal.SIGTERM, signal.SIGHUP)
IGNORED = (signal.SIGINT, signal.SIGQUIT)


def main(real: str, record_path: str | None, argv: list[str] | None = None) -> int:
    """Run ``real`` with our argv[1:]; record; return its exit code (or die by its signal)."""
    argv = sys.argv if argv is None else argv
    args = [os.fsencode(a) for a in argv]
    path = record_path or os.environ.get("SMP_COMPAT_RECORD") or None
    recorder = None
    if path:
        recorder = Recorder(path, program="real", release=None, args=args, environ=os.environ)
        recorder.set(real_binary=real)
    # A signal that comes before the child exists is kept and forwarded once it does: the
    # wrapper never dies without its record while the real plugin runs on.
    children: list[subprocess.Popen[bytes]] = []
    pending: list[int] = []

    def forward(signum: int, frame: object) -> None:
        if children:
            children[0].send_signal(signum)
        else:
            pending.append(signum)

    for sig in FORWARDED:
        signal.signal(sig, forward)
    if recorder:
        recorder.start()
    try:
        child = subprocess.Popen([real, *argv[1:]], close_fds=False)
    except OSError as exc:
        os.write(2, f"smp-compat shim: cannot run {real}: {exc}\n".encode())
        if recorder:
            recorder.finish(stdout=None, stderr=None, exit_code=127)
        return 127
    children.append(child)
    for signum in pending:
        child.send_signal(signum)
    for sig in IGNORED:
        signal.signal(sig, signal.SIG_IGN)
    code = child.wait()
    if recorder:
        if code < 0:
            name = signal.Signals(-code).name
            recorder.finish(stdout=None, stderr=None, exit_code=None, signal=name)
        else:
            recorder.finish(stdout=None, stderr=None, exit_code=code)
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code
    return code
