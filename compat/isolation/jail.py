"""The cell jail (``jail.c``): built once into the cache; the paths it hides; what it can do here.

Each tool runs under the jail: in a PID and mount namespace of its own where the machine
allows one (root, or unprivileged user namespaces), else as a child subreaper. The choice and
its costs are in docs/isolation.md. Without a C compiler there is no jail at all: tools then
run in a process group of their own, as before, and the run says so once.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pwd
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from compat.compiled import compiled
from compat.errors import CompileError
from compat.isolation.errors import InstallStopped
from compat.isolation.kitenv import HIDE_ENV

__all__ = [
    "CREDENTIAL_PLACES",
    "Isolation",
    "allow_installs",
    "hidden_paths",
    "isolation",
    "jail_binary",
    "run_jailed",
    "stop_installs",
]

JAIL_SOURCE = Path(__file__).with_name("jail.c")
#: Where a user keeps credentials, relative to a home directory; the jail covers those that
#: exist (a directory with an empty tmpfs, a file with /dev/null).
CREDENTIAL_PLACES = (
    ".aws",
    ".ssh",
    ".docker",
    ".kube",
    ".azure",
    ".config/gcloud",
    ".config/gh",
    ".netrc",
    ".git-credentials",
    ".pypirc",
)

#: Milliseconds an install step's processes get between SIGTERM and SIGKILL (at its timeout).
INSTALL_GRACE_MS = 5000

_lock = threading.Lock()


@functools.cache
def jail_binary() -> Path | None:
    """The jail, compiled once per source text into the cache; None without a compiler (or
    when the compile fails): then tools run unjailed (:func:`isolation` says so)."""
    with _lock:
        compiler = os.environ.get("CC") or "cc"
        try:
            return compiled(
                JAIL_SOURCE, "jail", "smp-compat-jail", ["-O2"], compiler=compiler, env=_cc_env()
            )
        except CompileError:
            return None


def _cc_env() -> dict[str, str]:
    return {k: os.environ[k] for k in ("PATH", "TMPDIR", "LANG") if k in os.environ}


def hidden_paths() -> list[str]:
    """What tools must not read: the credential places of the invoking user (by ``$HOME``
    and by the password database) and the files the invoking environment named."""
    homes = {os.environ.get("HOME", ""), pwd.getpwuid(os.getuid()).pw_dir} - {"", "/"}
    paths = [str(Path(home) / place) for home in sorted(homes) for place in CREDENTIAL_PLACES]
    paths += [p for p in os.environ.get(HIDE_ENV, "").split(os.pathsep) if Path(p).is_absolute()]
    return list(dict.fromkeys(paths))


@dataclass(frozen=True)
class Isolation:
    """What the jail achieves on this machine."""

    #: ``pidns``: a PID and mount namespace; ``subreaper``: descendants only; ``none``.
    mode: str
    #: The user's credential places are covered (only in a namespace).
    hidden: bool

    @property
    def warning(self) -> str | None:
        """One line for the run's header when tools run less isolated than designed."""
        if self.mode == "pidns" and self.hidden:
            return None
        if self.mode == "none":
            return (
                "tools run without the cell jail (no C compiler to build it): they can read "
                "the invoking user's ~/.aws, and a daemon they start with setsid can outlive "
                "its cell"
            )
        return (
            "this machine allows no PID and mount namespace: tools can read the invoking "
            "user's ~/.aws; their processes are still ended with the cell (docs/isolation.md)"
        )


@functools.cache
def isolation() -> Isolation:
    """Ask the jail once what it can do here (it prints ``mode ...`` first)."""
    binary = jail_binary()
    if binary is None:
        return Isolation("none", hidden=False)
    read, write = os.pipe()
    try:
        subprocess.run(
            [str(binary), str(write), "1000", "auto", "0", "/bin/true", "--", "true"],
            pass_fds=(write,),
            env=_cc_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        pass  # no status line: the answer below is "none"
    finally:
        os.close(write)
    with os.fdopen(read, "rb") as status:
        first = status.readline().decode("ascii", "replace").split()
    if len(first) == 3 and first[0] == "mode":
        return Isolation(first[1], hidden=first[2] == "hidden")
    return Isolation("none", hidden=False)


_steps: set[subprocess.Popen[str]] = set()
_steps_lock = threading.Lock()
_stopping = threading.Event()


def stop_installs() -> None:
    """End every install step under way (the run was interrupted); none starts until
    :func:`allow_installs`. ``compat.runner.process.terminate_all`` calls it."""
    _stopping.set()
    with _steps_lock:
        steps = list(_steps)
    for proc in steps:
        _end(proc, signal.SIGTERM)  # the jail ends all of it, with a grace


def allow_installs() -> None:
    """Undo :func:`stop_installs`: a new run starts."""
    _stopping.clear()


def run_jailed(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float,
    cwd: Path | str | None = None,
    stdout: IO[Any] | int | None = None,
    stderr: IO[Any] | int | None = None,
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run`` of an install step (pip, ``go``, npm) under the jail, as a tool runs.

    A package's build script runs here with the invoking user's rights: in the jail it finds
    the credential places covered and no other process's ``/proc/<pid>/environ`` (issue 13).
    Only the PID and mount namespaces are new, so the registries stay reachable and the caches
    writable. Without a jail (no C compiler) the step runs as before, with ``env`` alone.
    Either way :func:`stop_installs` ends it (unjailed, the program but not what it started).

    Raises:
        OSError: the program could not be started (``error`` from the jail).
        subprocess.TimeoutExpired: past ``timeout``; everything the step started is ended.
        InstallStopped: the run is being stopped.
    """
    binary = jail_binary()
    if binary is None:
        proc = _start(list(argv), env=env, cwd=cwd, stdout=stdout, stderr=stderr)
        out, err = _communicate(proc, argv, timeout)
        return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)
    hide = hidden_paths()
    read, write = os.pipe()
    with os.fdopen(read, "rb") as status:
        try:
            proc = _start(
                [str(binary), str(write), str(INSTALL_GRACE_MS), "auto", str(len(hide)), *hide,
                 argv[0], "--", *argv],
                env=env, cwd=cwd, stdout=stdout, stderr=stderr, pass_fds=(write,),
            )  # fmt: skip
        finally:
            os.close(write)
        out, err = _communicate(proc, argv, timeout)
        fields = dict(
            line.partition(" ")[::2]
            for line in status.read().decode("ascii", "replace").splitlines()
        )
    if "error" in fields:
        number = int(fields["error"])
        raise OSError(number, os.strerror(number), argv[0])
    code = int(fields["exit"]) if "exit" in fields else (proc.returncode or 1)
    return subprocess.CompletedProcess(list(argv), code, out, err)


def _start(
    command: list[str],
    *,
    env: Mapping[str, str],
    cwd: Path | str | None,
    stdout: IO[Any] | int | None,
    stderr: IO[Any] | int | None,
    pass_fds: tuple[int, ...] = (),
) -> subprocess.Popen[str]:
    """The step started and registered for :func:`stop_installs`."""
    if _stopping.is_set():
        raise InstallStopped("the run is being stopped")
    proc = subprocess.Popen(
        command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
        text=True, pass_fds=pass_fds,
    )  # fmt: skip
    with _steps_lock:
        _steps.add(proc)
    if _stopping.is_set():  # stopped between the check above and now
        _end(proc, signal.SIGTERM)
    return proc


def _communicate(
    proc: subprocess.Popen[str], argv: Sequence[str], timeout: float
) -> tuple[str, str]:
    """The step's output once it ended; it is ended at ``timeout`` (SIGTERM, then SIGKILL)."""
    try:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _end(proc, signal.SIGTERM)
            try:
                proc.communicate(timeout=INSTALL_GRACE_MS / 1000 + 5)
            except subprocess.TimeoutExpired:
                _end(proc, signal.SIGKILL)  # the jail's PID 1 dies, the namespace with it
                proc.communicate()
            raise subprocess.TimeoutExpired(list(argv), timeout) from None
    finally:
        with _steps_lock:
            _steps.discard(proc)
    if _stopping.is_set():
        raise InstallStopped("the run is being stopped")
    return out or "", err or ""


def _end(proc: subprocess.Popen[str], sig: int) -> None:
    """Signal the step: the jail, which ends all of it (unjailed, the program alone)."""
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
