"""The native launcher: a sandbox's ``session-manager-plugin`` that starts as fast as AWS's.

Three parts: ``launcher.c`` (compiled once per machine with the system ``cc`` into the user's
cache, like the container relay), :class:`PluginServer` (one warm ``server.py`` process per
run: the imports of a plugin start are done once; every start is served in a forked child)
and :func:`write_launcher` (puts the program, its configuration and a Python shim as its
fallback into a sandbox's bin directory). Without a compiler the sandbox gets the pure-Python
shim (``compat/launcher/shim.py``); when the server is not running the launcher execs that shim.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from compat.compiled import compiled, place
from compat.errors import CompileError, UserError
from compat.launcher.errors import LauncherBuildError
from compat.launcher.shim import PLUGIN_NAME, check_target, package_root, write_shim
from compat.service import Service
from compat.sockets import socket_dir

__all__ = [
    "CONF_NAME",
    "LAUNCHER_ENV",
    "LAUNCHER_SOURCE",
    "Launcher",
    "PluginServer",
    "build_launcher",
    "start_server",
    "write_launcher",
]

LAUNCHER_SOURCE = Path(__file__).with_name("launcher.c")
#: The launcher's configuration, beside it in the bin directory (read via /proc/self/exe).
CONF_NAME = ".smp-compat-launch"
#: Where the fallback shim goes, inside the bin directory (not itself on PATH).
SHIM_DIR = ".smp-compat-shim"
#: ``shim`` makes a run use the Python shim even where the launcher can be built.
LAUNCHER_ENV = "SMP_COMPAT_LAUNCHER"
#: How long the server may take to import and listen.
READY_TIMEOUT = 60.0


@dataclass(frozen=True)
class Launcher:
    """A built launcher and the socket of the running server it hands starts to."""

    binary: Path
    socket: Path


def build_launcher(cc: str | None = None) -> Path:
    """The launcher binary, compiled once per source text and compiler into the user's cache
    (``compat.compiled``).

    Raises:
        LauncherBuildError: no compiler, or the compile failed (its output is in the message).
    """
    compiler = cc or os.environ.get("CC") or "cc"
    try:
        return compiled(LAUNCHER_SOURCE, "launcher", PLUGIN_NAME, ["-O2"], compiler=compiler)
    except CompileError as exc:
        raise LauncherBuildError(f"building the plugin launcher: {exc}") from None


class PluginServer(Service):
    """The run's warm plugin server (``server.py`` in a process of its own).

    A separate process, not a thread of the runner: it forks for every start, and a fork is
    safe only from a process with one thread. Its stdin is a pipe from here, so it ends with
    the process that started it even if that one is killed. A :class:`compat.service.Service`.
    """

    def __init__(self, binary: Path, *, python: str | None = None) -> None:
        self.binary = binary
        self.python = python or sys.executable
        self.launcher: Launcher | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None
        self._wait = True

    def start(self, *, wait: bool = True) -> Self:
        """Start the server; ``wait=False`` returns at once: until the server listens (its
        imports take a second or more), launchers find no socket and exec their shim."""
        self._wait = wait
        return super().start()

    def _start(self) -> None:
        self._dir = socket_dir("smp-launch-")
        sock = self._dir / "plugin.sock"
        code = (
            f"import sys; sys.path.insert(0, {str(package_root())!r}); "
            "from compat.launcher.server import main; sys.exit(main())"
        )
        self._proc = subprocess.Popen(
            [self.python, "-I", "-c", code, str(sock)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE if self._wait else subprocess.DEVNULL,
            cwd="/",
            start_new_session=True,  # a cell's killpg never reaches it
        )
        if self._wait:
            assert self._proc.stdout is not None
            ready = _readline(self._proc.stdout, READY_TIMEOUT)
            if ready != b"ready\n":  # Service.start stops what did start
                raise LauncherBuildError(f"the plugin server did not start (said {ready!r})")
        self.launcher = Launcher(self.binary, sock)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _stop(self) -> None:
        """End the server (it kills plugins still running)."""
        proc, self._proc, self.launcher = self._proc, None, None
        if proc is not None:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
            if proc.returncode not in (0, -signal.SIGKILL):
                # Its launchers ran their shims: slower, correct; said, not silent.
                print(
                    f"smp-compat: the plugin server failed (exit {proc.returncode}); "
                    "plugin starts used the Python shim",
                    file=sys.stderr,
                )
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def _readline(stream: object, timeout: float) -> bytes:
    import select  # noqa: PLC0415

    fd = stream.fileno()  # type: ignore[attr-defined]
    if not select.select([fd], [], [], timeout)[0]:
        return b""
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            break
        line += chunk
    return line


def start_server() -> PluginServer | None:
    """A server starting in the background, or None (then sandboxes get the Python shim) with
    one line on stderr. ``SMP_COMPAT_LAUNCHER=shim`` chooses the shim without a word.
    """
    if os.environ.get(LAUNCHER_ENV, "").strip().lower() == "shim":
        return None
    try:
        return PluginServer(build_launcher()).start(wait=False)
    except (LauncherBuildError, OSError) as exc:
        print(
            f"smp-compat: plugin starts use the Python shim (slower): {exc}",
            file=sys.stderr,
        )
        return None


def write_launcher(
    directory: Path,
    launcher: Launcher,
    *,
    release: str | None = None,
    record: Path | None = None,
) -> Path:
    """Write ``directory/session-manager-plugin`` (the launcher), its configuration and shim.

    Raises:
        UserError: as :func:`compat.launcher.shim.write_shim` (unknown release, a foreign file...).
    """
    directory = directory.expanduser().absolute()
    target = directory / PLUGIN_NAME
    check_target(directory, target)
    shim = write_shim(directory / SHIM_DIR, release=release, record=record)
    lines = [f"socket={launcher.socket}", f"shim={shim}"]
    if release is not None:
        lines.append(f"release={release}")
    if record is not None:
        lines.append(f"record={record.expanduser().absolute()}")
    if any("\n" in line for line in lines):
        raise UserError(f"a path with a newline cannot go into {CONF_NAME}")
    conf = ("\n".join(lines) + "\n").encode("utf-8")
    place(directory / CONF_NAME, lambda tmp: _write_exclusive(tmp, conf, 0o644))

    def link_or_copy(tmp: Path) -> None:
        try:
            os.link(launcher.binary, tmp)  # same file system: no copy
        except OSError:
            _write_exclusive(tmp, launcher.binary.read_bytes(), 0o755)

    return place(target, link_or_copy)


def _write_exclusive(path: Path, data: bytes, mode: int) -> None:
    """A new file (``O_EXCL | O_NOFOLLOW``), with ``mode`` whatever the umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    with os.fdopen(os.open(path, flags, 0o600), "wb") as handle:
        handle.write(data)
        os.fchmod(handle.fileno(), mode)
