"""Install a caller tool published on PyPI, once, into a venv of the kit's cache.

One venv per requirement and Python, ``<root>/<hash>``, reused by every later run
(``compat.install.once``: a file lock, one progress line at the start and one at the end).
Unlike the other installers' entries it is built in place, not in a scratch directory renamed
into place: a venv's scripts name its absolute path. A marker written last says it is
complete, and a half-done venv is removed before the next try. pip runs jailed, as a tool does
(docs/isolation.md §2), and its refusals are not remembered: each run asks PyPI again.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from compat.install.errors import InstallRefused, VenvError
from compat.install.once import Once
from compat.isolation.jail import run_jailed
from compat.isolation.kitenv import install_env

__all__ = ["PIP_TIMEOUT", "install", "venv_of"]

#: Seconds one step (``python -m venv``, ``pip install``) may take.
PIP_TIMEOUT = 600.0
#: Written last: the venv is complete.
_DONE = ".smp-compat-installed"


def venv_of(requirement: str, root: Path) -> Path:
    """Where ``requirement``'s venv lives for this Python."""
    key = hashlib.sha256(f"{sys.version}\n{requirement}".encode()).hexdigest()[:16]
    return root / key


def install(requirement: str, program: str, root: Path, *, allowed: bool = True) -> Path:
    """``program`` from the venv of ``requirement`` (a pip requirement), installed first
    unless the cache has it.

    Raises :class:`VenvError` when it cannot be had: installs disabled, pip's refusal (its
    last line, the log's path), a timeout, a distribution without that program.
    """
    venv = venv_of(requirement, root)
    found = venv / "bin" / program
    entry = Once(
        ready=lambda: found if (venv / _DONE).exists() and found.exists() else None,
        lock=root / f"{venv.name}.lock",
        failed=None,
        error=VenvError,
    )
    ready = entry.reuse(
        allowed=allowed, disabled=f"{requirement} is not installed (installs disabled)"
    )
    if ready is not None:
        return ready
    return entry.build(
        lambda: _pip_install(requirement, program, venv),
        starting=f"installing {requirement} from PyPI (once; cached in {venv})",
        done=f"installed {requirement}",
    )


def _pip_install(requirement: str, program: str, venv: Path) -> None:
    """A fresh venv with ``requirement`` in it, marked complete once ``program`` is there."""
    shutil.rmtree(venv, ignore_errors=True)
    log = venv.parent / f"{venv.name}.log"
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
         "--disable-pip-version-check", requirement],
    ]  # fmt: skip
    with log.open("w", encoding="utf-8") as out:
        for step in steps:
            try:
                code = run_jailed(
                    step, stdout=out, stderr=subprocess.STDOUT, env=install_env(),
                    timeout=PIP_TIMEOUT,
                ).returncode  # fmt: skip
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise VenvError(f"installing {requirement} failed: {exc}") from None
            if code != 0:
                tail = log.read_text(encoding="utf-8", errors="replace").strip()
                last = tail.splitlines()[-1] if tail else ""
                raise InstallRefused(f"pip install {requirement} failed ({log}): {last}")
    if not (venv / "bin" / program).exists():
        raise InstallRefused(f"{requirement} installed no program {program}")
    (venv / _DONE).write_text(requirement + "\n", encoding="utf-8")
