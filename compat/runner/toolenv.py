"""Find or install the program a ``run`` variant needs: PyPI into a cached venv, a Go build
from the module proxy (``compat.install.gobuild``), or a binary.

Resolution happens once per run, before any cell starts (issue 4 item 4), so parallel cells
never race on a pip install. A requirement that cannot be met is not an error of the run: the
variant's cells become ``skipped`` with the reason, never ``pass``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from compat.adapter.model import VERSION_MATCH_TIMEOUT, Requirement, Variant
from compat.adapter.templating import Text
from compat.cache import cache_dir
from compat.install import pypi_venv
from compat.install.errors import BundleError, GoBuildError, NpmError, VenvError
from compat.install.pypi_bundle import Bundle, program

__all__ = ["Missing", "Resolved", "resolve"]

#: Seconds ``requires.version_args`` may take.
VERSION_TIMEOUT = 30.0


@dataclass(frozen=True)
class Resolved:
    """The program to run: ``program`` replaces the command's argv[0]."""

    program: Path
    #: Directories the tool's PATH needs (a venv's bin, for console scripts it runs itself).
    path_dirs: tuple[Path, ...] = ()
    #: How it was found, for reports ("installed in this Python", "cached venv …").
    how: str = ""
    #: The container image the command runs in (``compat/runner/container``); the command's argv[0]
    #: is then the image's program and is not replaced.
    image: str | None = None


@dataclass(frozen=True)
class Missing:
    """Why the requirement is not met; the cell is skipped with this reason code."""

    code: str  # requirement-missing | version-mismatch
    detail: str


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
    if requirement.unavailable is not None:
        return Missing("requirement-missing", requirement.unavailable)
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
    if requirement.npm is not None:
        return _npm(requirement, name, install=install)
    return _binary(requirement, name)


def _image(image: str) -> Resolved | Missing:
    """A containerised tool: ready when an engine answers and already has the image."""
    from compat.runner.container import engine_available  # noqa: PLC0415 - docker SDK only if needed

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
        # The value is never shown: any variable may be named here, a secret too (issue 13
        # High 1), and this detail is published in reports.
        path = Path(found)
        if not (path.is_absolute() and path.is_file() and os.access(path, os.X_OK)):
            return Missing(
                "requirement-missing",
                _hinted(
                    requirement,
                    f"${requirement.path_env} does not name an executable file by absolute path",
                ),
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
    """A Go package built from the module proxy into the cache (``compat.install.gobuild``)."""
    from compat.install.gobuild import build  # noqa: PLC0415

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


def _npm(requirement: Requirement, name: str | None, *, install: bool) -> Resolved | Missing:
    """An npm package installed into the cache (``compat.install.npm``); needs ``node``."""
    from compat.install.npm import install as npm_install  # noqa: PLC0415

    assert requirement.npm is not None
    if name is None:
        return Missing("requirement-missing", "the adapter's command[0] names no program")
    node = shutil.which("node")
    if node is None:
        return Missing("requirement-missing", _hinted(requirement, "node not found on PATH"))
    try:
        program = npm_install(requirement.npm, name, cache_dir() / "npm", allowed=install)
    except NpmError as exc:
        return Missing("requirement-missing", _hinted(requirement, str(exc)))
    return _check_version(requirement, str(program)) or Resolved(
        program, (program.parent, Path(node).parent), f"installed from npm ({requirement.npm})"
    )


def _check_version(requirement: Requirement, program: str) -> Missing | None:
    if not requirement.version_match:
        return None
    try:
        output = _version_output(program, requirement.version_args)
    except (OSError, TimeoutError) as exc:
        return Missing("version-mismatch", f"{program} {' '.join(requirement.version_args)}: {exc}")
    try:
        matches = requirement.version_matches(output)
    except TimeoutError:
        return Missing(
            "version-mismatch",
            f"requires.version_match /{requirement.version_match}/ did not finish within "
            f"{VERSION_MATCH_TIMEOUT:g} s on {program}'s output (a nested quantifier such as "
            "(a|aa)+ backtracks without end); simplify the pattern",
        )
    if not matches:
        first = output.splitlines()[0] if output else "(no output)"
        return Missing(
            "version-mismatch",
            _hinted(
                requirement,
                f"{program} reports {first!r}, not /{requirement.version_match}/",
            ),
        )
    return None


def _version_output(program: str, args: tuple[str, ...] | list[str]) -> str:
    """What ``program ARGS`` prints; remembered for a program the kit installed itself.

    A frozen AWS CLI v2 takes 3-7 s to answer ``--version`` on a busy machine and, past the
    30 s limit, every one of its cells would be skipped: a flaky column. A program in the
    kit's cache changes only when the kit replaces it (a new inode, size or mtime), so its
    answer is kept beside the cache; a program elsewhere (PATH, ``path_env``) is asked each run.
    """
    memo = _version_memo(program, args)
    if memo is not None and memo.is_file():
        return memo.read_text(encoding="utf-8")
    output = _ask_version(program, args)
    if memo is not None:
        memo.parent.mkdir(parents=True, exist_ok=True)
        partial = memo.with_name(f".{memo.name}.{os.getpid()}")
        partial.write_text(output, encoding="utf-8")
        partial.replace(memo)
    return output


def _version_memo(program: str, args: tuple[str, ...] | list[str]) -> Path | None:
    """Where the answer of a program inside the kit's cache is kept, keyed by its identity."""
    try:
        path = Path(program).resolve(strict=True)
        stat = path.stat()
    except OSError:
        return None
    root = cache_dir().resolve()
    if not path.is_relative_to(root):
        return None
    identity = f"{path}\0{stat.st_ino}\0{stat.st_size}\0{stat.st_mtime_ns}\0" + "\0".join(args)
    return root / "versions" / hashlib.sha256(identity.encode()).hexdigest()[:24]


def _ask_version(program: str, args: tuple[str, ...] | list[str]) -> str:
    """What ``program ARGS`` prints, run as a cell's tool is: jailed, with an environment of
    its own (a HOME of its own, system PATH), never the kit's (issue 13 High 2)."""
    from compat.runner.process import run_process  # noqa: PLC0415 (compat.runner imports us)
    from compat.runner.sandbox import SYSTEM_PATH  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="smp-compat-version-") as tmp:
        root = Path(tmp)
        (root / "home").mkdir()
        env = {
            "PATH": os.pathsep.join([str(Path(program).parent), *SYSTEM_PATH]),
            "HOME": str(root / "home"),
            "TMPDIR": tmp,
            "LANG": "C.UTF-8",
        }
        out, err = root / "stdout", root / "stderr"
        finished = run_process(
            [program, *args], env=env, cwd=root, stdout=out, stderr=err, timeout=VERSION_TIMEOUT
        )
        if finished.timed_out:
            raise TimeoutError(f"no answer in {VERSION_TIMEOUT:g} s")
        text = out.read_text(encoding="utf-8", errors="replace")
        return (text + err.read_text(encoding="utf-8", errors="replace")).strip()


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
    try:
        found = pypi_venv.install(requirement.pypi, name, cache_dir() / "venvs", allowed=install)
    except VenvError as exc:
        return Missing("requirement-missing", str(exc))
    return Resolved(found, (found.parent,), f"cached venv {found.parent.parent}")
