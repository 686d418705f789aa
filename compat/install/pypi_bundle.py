"""A program shipped inside a PyPI artifact, possibly archives deep: downloaded once, cached.

The official AWS CLI v2 is not on PyPI as a package of its own, but its Linux bundle ships in
``aws-cdk-asset-awscli-v2``: the wheel holds a ``.jsii.tgz``, which holds
``package/lib/layer.zip``, which holds ``awscli/v2/<version>/dist/aws``. An adapter names that
chain as a *member path*, archives separated by ``!`` and each step a glob::

    *.jsii.tgz!package/lib/layer.zip!awscli/v2/*/dist/aws

The program's whole directory is extracted (a PyInstaller ``dist/`` needs its libraries
beside it) into ``<cache>/bundles/<key>/``, under an exclusive lock so parallel resolutions
and runs never extract into one place twice. Extraction refuses anything that would land
outside that directory, keeps exec bits, and renames a finished tree into place, so a
half-written bundle is never reused.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Literal

from compat.install.errors import BundleError
from compat.install.once import Once, publish, scratch
from compat.isolation.jail import run_jailed
from compat.isolation.kitenv import install_env

__all__ = ["PIN_RE", "Bundle", "program", "unpack"]

#: ``name==version``: an exact pin, so a cached bundle never goes stale.
PIN_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?==[A-Za-z0-9][A-Za-z0-9.!+_-]*")
#: Seconds ``pip download`` may take before the requirement counts as missing.
DOWNLOAD_TIMEOUT = 600.0
_DONE = ".smp-compat-bundle.json"


@dataclass(frozen=True)
class Bundle:
    """``requirement`` (``name==version``) and the ``!``-separated path to the program in it."""

    requirement: str
    member: str

    @property
    def key(self) -> str:
        """The cache directory's name: readable, and unique per requirement and path."""
        digest = hashlib.sha256(f"{self.requirement}\n{self.member}".encode()).hexdigest()[:12]
        return f"{self.requirement.replace('==', '-')}-{digest}"

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(self.member.split("!"))


def program(bundle: Bundle, cache: Path, *, install: bool = True) -> Path:
    """The cached program, downloading and extracting it first if needed (``install``)."""
    root = cache / "bundles"
    final = root / bundle.key
    # pip's refusals are not remembered (failed=None): each run asks PyPI again.
    entry = Once(lambda: _cached(final), root / f"{bundle.key}.lock", None, BundleError)
    disabled = f"{bundle.requirement} is not downloaded yet (installs disabled)"
    found = entry.reuse(allowed=install, disabled=disabled)
    if found is not None:
        return found

    def make() -> None:
        with scratch(final) as work:
            name = _build(bundle, work)
            record = {"requirement": bundle.requirement, "member": bundle.member, "program": name}
            (work / "tree" / _DONE).write_text(json.dumps(record) + "\n", encoding="utf-8")
            publish(work / "tree", final)

    return entry.build(
        make,
        starting=f"smp-compat: fetching {bundle.requirement} from PyPI…",
        done=f"smp-compat: {bundle.requirement} ready",
    )


def _cached(final: Path) -> Path | None:
    """The program of a finished extraction (renamed into place with its record), else ``None``."""
    try:
        record = json.loads((final / _DONE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    found = final / str(record.get("program", ""))
    return found if found.is_file() and os.access(found, os.X_OK) else None


def _build(bundle: Bundle, work: Path) -> str:
    """Download into ``work``, extract into ``work/tree``; the program's file name."""
    return unpack(_download(bundle.requirement, work / "download"), bundle.steps, work).name


def unpack(archive: Path, steps: Sequence[str], work: Path) -> Path:
    """Follow ``steps`` (one glob per archive) from ``archive``; the program in ``work/tree``.

    Intermediate archives are written to ``work``; ``work/tree`` must not exist yet.
    """
    work.mkdir(parents=True, exist_ok=True)
    *through, last = steps
    for depth, pattern in enumerate(through):
        with _Archive.open(archive) as outer:
            entry = outer.only(pattern)
            nested = work / f"step{depth}"
            with outer.read(entry) as src, nested.open("wb") as dst:
                shutil.copyfileobj(src, dst)
        if archive.is_relative_to(work):
            archive.unlink()  # a downloaded or intermediate archive: no longer needed
        archive = nested
    with _Archive.open(archive) as inner:
        entry = inner.only(last)
        if entry.kind != "file":
            raise BundleError(f"{entry.name} in {archive.name} is not a regular file")
        inner.extract_under(PurePosixPath(entry.name).parent, work / "tree")
    target = work / "tree" / PurePosixPath(entry.name).name
    if not os.access(target, os.X_OK):
        raise BundleError(f"{entry.name} is not executable")
    return target


def _download(requirement: str, into: Path) -> Path:
    """``pip download --no-deps`` of one wheel; pip's own settings (``PIP_*``) apply."""
    into.mkdir()
    # Only what pip needs (PIP_*, proxies, CA...): no AWS_* and nothing else of the kit's.
    env = install_env()
    argv = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--no-cache-dir", "--disable-pip-version-check", "-q", "-d", str(into), requirement,
    ]  # fmt: skip
    try:
        done = run_jailed(  # jailed as a tool is (docs/isolation.md §2)
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=DOWNLOAD_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BundleError(f"pip download {requirement} failed: {exc}") from None
    if done.returncode != 0:
        lines = [ln.strip() for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("ERROR")] or lines or ["(no output)"]
        raise BundleError(f"pip download {requirement} failed: {errors[-1]}")
    files = sorted(into.iterdir())
    if len(files) != 1:
        raise BundleError(f"pip download {requirement} left {len(files)} files, expected one")
    return files[0]


@dataclass(frozen=True)
class _Entry:
    name: str
    kind: Literal["file", "dir", "link", "other"]
    mode: int
    #: A symbolic link's target.
    link: str = ""


def _matches(name: str, pattern: str) -> bool:
    """Glob per path segment: ``*`` never crosses a ``/``."""
    parts = PurePosixPath(name).parts
    wanted = PurePosixPath(pattern).parts
    return len(parts) == len(wanted) and all(
        fnmatch.fnmatchcase(p, w) for p, w in zip(parts, wanted, strict=True)
    )


class _Archive:
    """A zip (wheels too) or a tar of any compression, read through one small interface."""

    def __init__(self, path: Path, zf: zipfile.ZipFile | None, tf: tarfile.TarFile | None):
        self.path = path
        self._zip = zf
        self._tar = tf

    @classmethod
    @contextlib.contextmanager
    def open(cls, path: Path) -> Iterator[_Archive]:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                yield cls(path, zf, None)
            return
        try:
            tf = tarfile.open(path)  # noqa: SIM115 - closed below, after the caller is done
        except (tarfile.TarError, OSError) as exc:
            raise BundleError(f"{path.name} is neither a zip nor a tar archive ({exc})") from None
        with tf:
            yield cls(path, None, tf)

    def entries(self) -> Iterator[_Entry]:
        if self._zip is not None:
            for info in self._zip.infolist():
                mode = info.external_attr >> 16 if info.create_system == 3 else 0
                if stat.S_ISLNK(mode):
                    link = self._zip.read(info).decode("utf-8", "replace")
                    yield _Entry(info.filename.rstrip("/"), "link", mode, link)
                elif info.is_dir():
                    yield _Entry(info.filename.rstrip("/"), "dir", mode)
                else:
                    yield _Entry(info.filename, "file", mode or 0o644)
            return
        assert self._tar is not None
        for member in self._tar.getmembers():
            kind: Literal["file", "dir", "link", "other"] = (
                "file" if member.isreg() else
                "dir" if member.isdir() else
                "link" if member.issym() else "other"
            )  # fmt: skip
            yield _Entry(member.name.rstrip("/"), kind, member.mode, member.linkname)

    def only(self, pattern: str) -> _Entry:
        """The one entry ``pattern`` matches; none or several is the adapter's mistake."""
        found = [e for e in self.entries() if _matches(e.name, pattern)]
        if len(found) != 1:
            names = ", ".join(e.name for e in found[:3])
            what = "nothing" if not found else f"{len(found)} entries ({names}…)"
            raise BundleError(f"{pattern!r} matches {what} in {self.path.name}")
        return found[0]

    def read(self, entry: _Entry) -> IO[bytes]:
        if self._zip is not None:
            return self._zip.open(entry.name)
        assert self._tar is not None
        handle = self._tar.extractfile(entry.name)
        if handle is None:
            raise BundleError(f"{entry.name} in {self.path.name} is not a regular file")
        return handle

    def extract_under(self, parent: PurePosixPath, dest: Path) -> None:
        """Every entry below ``parent`` into ``dest``; links may not point out of it."""
        dest.mkdir()
        root = dest.resolve()
        prefix = () if str(parent) == "." else parent.parts
        for entry in self.entries():
            parts = PurePosixPath(entry.name).parts
            if parts[: len(prefix)] != prefix or len(parts) == len(prefix):
                continue
            rel = parts[len(prefix) :]
            if ".." in rel or PurePosixPath(entry.name).is_absolute():
                raise BundleError(f"refusing {entry.name!r}: it would land outside {dest}")
            path = dest.joinpath(*rel)
            if not path.parent.resolve().is_relative_to(root):
                raise BundleError(f"refusing {entry.name!r}: it would land outside {dest}")
            if entry.kind == "dir":
                path.mkdir(parents=True, exist_ok=True)
            elif entry.kind == "file":
                path.parent.mkdir(parents=True, exist_ok=True)
                with self.read(entry) as src, path.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
                path.chmod(stat.S_IMODE(entry.mode) & 0o755 | 0o600)
            elif entry.kind == "link":
                landing = (path.parent / entry.link).resolve()
                if PurePosixPath(entry.link).is_absolute() or not landing.is_relative_to(root):
                    raise BundleError(f"refusing link {entry.name!r} -> {entry.link!r}: outside")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.symlink_to(entry.link)
