"""Find or install the program a ``run`` variant needs: PyPI into a cached venv, a Go build
from the module proxy (``compat.gobuild``), or a binary.

Resolution happens once per run, before any cell starts (issue 4 item 4), so parallel cells
never race on a pip install. A requirement that cannot be met is not an error of the run: the
variant's cells become ``skipped`` with the reason, never ``pass``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from compat.adapter import Requirement, Variant
from compat.cachelock import locked
from compat.pypi_bundle import Bundle, BundleError, program
from compat.templating import Text

__all__ = ["Missing", "Resolved", "cache_dir", "resolve"]

#: Seconds a pip install may take before the variant is skipped.
PIP_TIMEOUT = 600.0


@dataclass(frozen=True)
class Resolved:
    """The program to run: ``program`` replaces the command's argv[0]."""

    program: Path
    #: Directories the tool's PATH needs (a venv's bin, for console scripts it runs itself).
    path_dirs: tuple[Path, ...] = ()
    #: How it was found, for reports ("installed in this Python", "cached venv …").
    how: str = ""
    #: The container image the command runs in (``compat/container``); the command's argv[0]
    #: is then the image's program and is not replaced.
    image: str | None = None


@dataclass(frozen=True)
class Missing:
    """Why the requirement is not met; the cell is skipped with this reason code."""

    code: str  # requirement-missing | version-mismatch
    detail: str


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/smp-compat`` (default ``~/.cache/smp-compat``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "smp-compat"


def _program_name(variant: Variant) -> str | None:
    launch = next(iter(variant.launches.values()))
    first = launch.command[0] if launch.command else None
    return first.source if isinstance(first, Text) and not first.parts else None


def resolve(variant: Variant, *, install: bool = True) -> Resolved | Missing:
    """Where the variant's program is, or why it is missing. ``install=False``: no pip."""
    if variant.image is not None:
        return _image(variant.image)
    requirement = variant.requires
    name = _program_name(variant)
    if requirement is None:
        requirement = Requirement(binary=name)
    if requirement.pypi is not None:
        found = _pypi(requirement, name, install=install)
        if isinstance(found, Missing):
            return found
        # An old release may install yet not start on this Python (aws-gate 0.4.3).
        return _check_version(requirement, str(found.program)) or found
    if requirement.pypi_bundle is not None:
        return _bundle(requirement, install=install)
    if requirement.go is not None:
        return _go(requirement, name, install=install)
    return _binary(requirement, name)


def _image(image: str) -> Resolved | Missing:
    """A containerised tool: ready when an engine answers and already has the image."""
    from compat.container import engine_available  # noqa: PLC0415 - docker SDK only if needed

    reason = engine_available(image)
    if reason is not None:
        return Missing("requirement-missing", f"image {image}: {reason}")
    return Resolved(Path("/"), (), f"container image {image}", image=image)


def _hinted(requirement: Requirement, text: str) -> str:
    return f"{text}; {requirement.hint}" if requirement.hint else text


def _binary(requirement: Requirement, name: str | None) -> Resolved | Missing:
    found: str | None = None
    how = ""
    if requirement.path_env and os.environ.get(requirement.path_env):
        found = os.environ[requirement.path_env]
        how = f"${requirement.path_env}"
        if not os.access(found, os.X_OK):
            return Missing(
                "requirement-missing",
                _hinted(requirement, f"${requirement.path_env}={found} is not an executable"),
            )
    else:
        wanted = requirement.binary or name
        if wanted is None:
            return Missing("requirement-missing", "the adapter names no program")
        found = shutil.which(wanted)
        how = "path" if Path(wanted).is_absolute() else "PATH"
        if found is None:
            return Missing("requirement-missing", _hinted(requirement, f"{wanted} not found"))
    check = _check_version(requirement, found)
    if check is not None:
        return check
    return Resolved(Path(found), (Path(found).parent,), how)


def _bundle(requirement: Requirement, *, install: bool) -> Resolved | Missing:
    """A program inside a PyPI artifact (``compat/pypi_bundle``); ``path_env`` wins when set."""
    if requirement.path_env and os.environ.get(requirement.path_env):
        return _binary(requirement, None)
    assert requirement.pypi_bundle is not None and requirement.bundle_path is not None
    bundle = Bundle(requirement.pypi_bundle, requirement.bundle_path)
    try:
        found = program(bundle, cache_dir(), install=install)
    except BundleError as exc:
        return Missing("requirement-missing", _hinted(requirement, str(exc)))
    check = _check_version(requirement, str(found))
    if check is not None:
        return check
    return Resolved(found, (found.parent,), f"{bundle.requirement} (cached {found.parent})")


def _go(requirement: Requirement, name: str | None, *, install: bool) -> Resolved | Missing:
    """A Go package built from the module proxy into the cache (``compat.gobuild``)."""
    from compat.gobuild import GoBuildError, build  # noqa: PLC0415

    assert requirement.go is not None
    if name is None:
        return Missing("requirement-missing", "the adapter's command[0] names no program")
    try:
        program = build(requirement.go, name, cache_dir() / "go", install=install)
    except GoBuildError as exc:
        return Missing("requirement-missing", _hinted(requirement, str(exc)))
    return _check_version(requirement, str(program)) or Resolved(
        program, (program.parent,), f"built from the Go module proxy ({requirement.go})"
    )


def _check_version(requirement: Requirement, program: str) -> Missing | None:
    if not requirement.version_match:
        return None
    try:
        done = subprocess.run(
            [program, *requirement.version_args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Missing("version-mismatch", f"{program} {' '.join(requirement.version_args)}: {exc}")
    output = (done.stdout + done.stderr).strip()
    if re.search(requirement.version_match, output, re.MULTILINE) is None:
        first = output.splitlines()[0] if output else "(no output)"
        return Missing(
            "version-mismatch",
            _hinted(
                requirement,
                f"{program} reports {first!r}, not /{requirement.version_match}/",
            ),
        )
    return None


def _installed_here(pypi: str) -> bool:
    """Whether this Python already has a distribution satisfying ``pypi``."""
    from importlib import metadata  # noqa: PLC0415

    try:
        # ``packaging`` is not a dependency of the kit; without it, install into a venv.
        from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415
    except ImportError:
        return False
    try:
        req = Requirement(pypi)
        version = metadata.version(req.name)
    except (InvalidRequirement, metadata.PackageNotFoundError):
        return False
    return req.specifier.contains(version, prereleases=True)


def _pypi(requirement: Requirement, name: str | None, *, install: bool) -> Resolved | Missing:
    assert requirement.pypi is not None
    if name is None:
        return Missing("requirement-missing", "the adapter's command[0] names no program")
    here = Path(sys.executable).parent
    if _installed_here(requirement.pypi) and (here / name).exists():
        return Resolved(here / name, (here,), f"installed in {sys.executable}")
    key = hashlib.sha256(f"{sys.version}\n{requirement.pypi}".encode()).hexdigest()[:16]
    venv = cache_dir() / "venvs" / key
    program = venv / "bin" / name
    done = venv / ".smp-compat-installed"
    if done.exists() and program.exists():
        return Resolved(program, (venv / "bin",), f"cached venv {venv}")
    if not install:
        return Missing(
            "requirement-missing", f"{requirement.pypi} is not installed (installs disabled)"
        )
    return _install(requirement.pypi, venv, program, done)


def _install(pypi: str, venv: Path, program: Path, done: Path) -> Resolved | Missing:
    venv.parent.mkdir(parents=True, exist_ok=True)
    log = venv.parent / f"{venv.name}.log"
    with locked(venv.parent / f"{venv.name}.lock"):
        if done.exists() and program.exists():
            return Resolved(program, (venv / "bin",), f"cached venv {venv}")
        shutil.rmtree(venv, ignore_errors=True)
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
             "--disable-pip-version-check", pypi],
        ]  # fmt: skip
        with log.open("w", encoding="utf-8") as out:
            for step in steps:
                try:
                    code = subprocess.run(
                        step, stdout=out, stderr=subprocess.STDOUT, timeout=PIP_TIMEOUT, check=False
                    ).returncode
                except (OSError, subprocess.TimeoutExpired) as exc:
                    return Missing("requirement-missing", f"installing {pypi} failed: {exc}")
                if code != 0:
                    tail = log.read_text(encoding="utf-8", errors="replace").strip()
                    last = tail.splitlines()[-1] if tail else ""
                    return Missing(
                        "requirement-missing", f"pip install {pypi} failed ({log}): {last}"
                    )
        if not program.exists():
            return Missing("requirement-missing", f"{pypi} installed no program {program.name}")
        done.write_text(pypi + "\n", encoding="utf-8")
    return Resolved(program, (venv / "bin",), f"cached venv {venv}")
