"""Writes ``DIR/session-manager-plugin``: the fake plugin, or a recording wrapper of a real one.

The package installs no ``session-manager-plugin`` anywhere: a
fake on the user's PATH would break their real ECS Exec. Shims go only into directories the
harness (or the user) names, and never over a file that is not already one of ours.

The script runs this installation's interpreter by absolute path with ``-I -S``: isolated from
``PYTHON*`` variables and the caller's cwd, and without ``site``, which keeps ``--version`` as
fast as a bare interpreter. The directory holding ``fake_plugin`` goes first on ``sys.path``;
the session path calls ``site.main()`` itself when it needs site-packages.
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
from pathlib import Path

import fake_plugin
from compat.errors import UserError
from fake_plugin import versions
from fake_plugin.errors import UnknownReleaseError

PLUGIN_NAME = "session-manager-plugin"
#: Marks a file as written by us: only such a file may be overwritten.
MARKER = "# smp-compat shim: not AWS's session-manager-plugin"
#: Linux reads at most 127 bytes of a ``#!`` line before 5.1 (BINPRM_BUF_SIZE 128).
MAX_SHEBANG = 127


def package_root() -> Path:
    """The sys.path entry that holds this installation's ``fake_plugin`` package."""
    return Path(fake_plugin.__file__).resolve().parent.parent


def script_body(*, release: str | None, record: Path | None, real: Path | None) -> str:
    """The Python code the shim runs (no quotes inside, so it can also go through ``sh -c``)."""
    lines = ["import sys", f"sys.path.insert(0, {str(package_root())!r})"]
    record_arg = repr(str(record)) if record else "None"
    if real is None:
        lines.append("from fake_plugin.program import main")
        lines.append(f"sys.exit(main(release={release!r}, record_path={record_arg}))")
    else:
        lines.append("from fake_plugin.wrap import main")
        lines.append(f"sys.exit(main({str(real)!r}, {record_arg}))")
    return "\n".join(lines) + "\n"


def render(*, release: str | None, record: Path | None, real: Path | None, python: str) -> str:
    """The whole shim file: a Python script, or a ``/bin/sh`` one if the ``#!`` line cannot be."""
    # ascii(): a newline (or any control character) in a path must not end the comment line.
    what = (
        f"recording wrapper around {str(real)!a}"
        if real
        else f"fake plugin, release {ascii(release) if release else 'from env'}"
    )
    body = script_body(release=release, record=record, real=real)
    # A PyInstaller-frozen caller (the AWS CLI v2 bundle) hands its children LD_LIBRARY_PATH=
    # <its own dir>, which can load its libpython into our interpreter. AWS's Go plugin is
    # immune to that, so the fake's interpreter keeps the library path this process has.
    library_path = os.environ.get("LD_LIBRARY_PATH")
    shebang = f"#!/usr/bin/env -S -u LD_LIBRARY_PATH {python} -IS"
    if (
        library_path is None
        and len(shebang) <= MAX_SHEBANG
        and not any(c.isspace() for c in python)
    ):
        return f"{shebang}\n{MARKER}\n# {what}; written by `smp-compat shim`.\n{body}"
    # A long or spaced interpreter path: let sh exec it; argv[0] is passed on as "$0".
    code = "import sys\nsys.argv = sys.argv[1:]\n" + body
    keep = (
        "unset LD_LIBRARY_PATH"
        if library_path is None
        else f"export LD_LIBRARY_PATH={shlex.quote(library_path)}"
    )
    return (
        f"#!/bin/sh\n{MARKER}\n# {what}; written by `smp-compat shim`.\n{keep}\n"
        f'exec {shlex.quote(python)} -IS -c {shlex.quote(code)} "$0" "$@"\n'
    )


def write_shim(
    directory: Path,
    *,
    release: str | None = None,
    record: Path | None = None,
    real: Path | None = None,
    python: str | None = None,
) -> Path:
    """Write ``directory/session-manager-plugin`` and return its path.

    Raises:
        UserError: an unknown release, a real binary that is missing or not executable, a
            directory on the current PATH, or an existing plugin file that is not a shim.
    """
    directory = directory.expanduser().absolute()
    target = directory / PLUGIN_NAME
    if release is not None:
        try:
            versions.check(release)
        except UnknownReleaseError as exc:
            raise UserError(f"--release: {exc}") from None
        if real is not None:
            raise UserError("--release applies to the fake plugin only, not with --real")
    if real is not None:
        real = _check_real(real, target)
    check_target(directory, target)
    if record is not None:
        record = record.expanduser().absolute()
    text = render(release=release, record=record, real=real, python=python or sys.executable)
    _write_new(directory, target, text.encode("utf-8"))
    return target


def _write_new(directory: Path, target: Path, data: bytes) -> None:
    """Write ``data`` as ``target`` (mode 755) in one rename, following no planted link.

    The file is created in a fresh private directory (``mkdtemp``: a name nobody could
    predict, mode 700) with ``O_EXCL | O_NOFOLLOW``, so a symlink placed where a fixed temp
    name would be can neither receive the shim nor its mode.
    """
    scratch = Path(tempfile.mkdtemp(prefix=f".{PLUGIN_NAME}.", dir=directory))
    tmp = scratch / PLUGIN_NAME
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(tmp, flags, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            os.fchmod(handle.fileno(), 0o755)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
        scratch.rmdir()


def check_target(directory: Path, target: Path) -> None:
    """Refuse a directory on PATH or a plugin file we did not write; create the directory.

    Raises:
        UserError: with the reason, in one line.
    """
    if directory.exists() and not directory.is_dir():
        raise UserError(f"{directory} exists and is not a directory")
    if _on_path(directory):
        raise UserError(
            f"{directory} is on your PATH (an empty PATH entry is the current directory): a "
            f"fake there would shadow the real {PLUGIN_NAME} for every program; write the "
            "shim to a sandbox bin directory"
        )
    if target.exists() and not target.is_file():
        raise UserError(f"{target} exists and is not a regular file; not overwriting it")
    if target.exists() and not _is_shim(target):
        raise UserError(f"{target} exists and was not written by smp-compat; not overwriting it")
    directory.mkdir(parents=True, exist_ok=True)


def _check_real(real: Path, target: Path) -> Path:
    real = real.expanduser().absolute()
    if not real.is_file():
        raise UserError(f"--real {real}: no such file")
    if not (real.stat().st_mode & 0o111 and os.access(real, os.X_OK)):
        raise UserError(f"--real {real}: not executable")
    if real.resolve() == target.resolve() or _is_shim(real):
        raise UserError(f"--real {real} is an smp-compat shim, not a real {PLUGIN_NAME}")
    return real


def _is_shim(path: Path) -> bool:
    """A shim has the marker in its head; the native launcher (``compat/launcher``) in its data."""
    try:
        with path.open("rb") as handle:
            return MARKER.encode() in handle.read(256 * 1024)
    except OSError:
        return False


def _on_path(directory: Path) -> bool:
    """Whether a program run from here finds ``directory`` through PATH.

    An empty PATH entry (``PATH=/usr/bin:`` or ``::``) means the current directory to
    ``execvp`` and shells, so it counts as ``.``.
    """
    resolved = directory.resolve()
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if Path(entry or ".").expanduser().absolute().resolve() == resolved:
            return True
    return False
