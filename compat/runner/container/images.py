"""Images made from this machine's own files, for engines with no registry to pull from.

``busybox_image``: a static busybox and its applets (about 2 MB): an image with no Python,
to prove the relay needs none. ``python_image``: busybox plus this interpreter, its standard
library (without tests, IDLE, tkinter), the shared libraries ``ldd`` names, and the installed
files of the named distributions with their dependencies (``awscli`` by default), all at their
host paths so that the interpreter's prefix, RPATH and the scripts' ``#!`` lines hold inside
the image; the distributions' scripts get ``/usr/local/bin`` links (``aws``).

Each image is tagged ``localhost/<name>:<hash>``, the hash covering the recipe and every
source file's path, size and mtime, so an unchanged machine reuses the image and a changed
one rebuilds it (older tags of the same name are removed).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import io
import json
import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from compat.cache import cache_dir
from compat.runner.container.engine import sdk

__all__ = ["Rootfs", "build_image", "busybox_image", "python_image", "python_rootfs"]

#: Bump when the layout below changes: every cached image is then rebuilt.
RECIPE = "1"
BUSYBOX = Path("/bin/busybox")
#: Standard-library parts no caller program needs (about 200 MB of the 260).
_STDLIB_SKIP = {
    "site-packages",
    "test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "lib2to3",
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass
class Rootfs:
    """What goes into an image: host files by image path, symlinks, generated texts, env."""

    files: dict[str, Path] = field(default_factory=dict)
    symlinks: dict[str, str] = field(default_factory=dict)
    texts: dict[str, bytes] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def digest(self) -> str:
        """Content hash of the recipe (paths, sizes, mtimes; not the bytes: fast to recheck)."""
        h = hashlib.sha256(RECIPE.encode())
        for dest, src in sorted(self.files.items()):
            st = src.stat()
            h.update(f"F{dest}\0{src}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        for dest, link in sorted(self.symlinks.items()):
            h.update(f"L{dest}\0{link}\n".encode())
        for dest, text in sorted(self.texts.items()):
            h.update(f"T{dest}\0".encode() + hashlib.sha256(text).digest())
        h.update(json.dumps(self.env, sort_keys=True).encode())
        return h.hexdigest()[:16]

    def write_tar(self, out: Path) -> None:
        """A tarball of the rootfs, with every parent directory as 0755 (``/tmp`` 1777)."""
        paths = [*self.files, *self.symlinks, *self.texts]
        dirs = {str(p) for d in paths for p in PurePosixPath(d).parents if str(p) != "/"}
        dirs.add("/tmp")
        with tarfile.open(out, "w") as tar:
            for d in sorted(dirs):
                info = tarfile.TarInfo(d.lstrip("/"))
                info.type, info.mode = tarfile.DIRTYPE, 0o1777 if d == "/tmp" else 0o755
                tar.addfile(info)
            for dest, src in sorted(self.files.items()):
                info = tar.gettarinfo(str(src.resolve()), arcname=dest.lstrip("/"))
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                with src.open("rb") as handle:
                    tar.addfile(info, handle)
            for dest, link in sorted(self.symlinks.items()):
                info = tarfile.TarInfo(dest.lstrip("/"))
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
            for dest, text in sorted(self.texts.items()):
                info = tarfile.TarInfo(dest.lstrip("/"))
                info.size, info.mode = len(text), 0o644
                tar.addfile(info, io.BytesIO(text))


def busybox_rootfs(busybox: Path = BUSYBOX) -> Rootfs:
    """A static busybox at ``/bin/busybox`` with a link per applet, and a root user."""
    if not busybox.is_file():
        raise FileNotFoundError(f"{busybox} (Debian: apt-get install busybox-static)")
    listed = subprocess.run(
        [str(busybox), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    rootfs = Rootfs(files={"/bin/busybox": busybox})
    rootfs.symlinks = {f"/bin/{name}": "busybox" for name in listed if name != "busybox"}
    rootfs.texts = {
        "/etc/passwd": b"root:x:0:0:root:/root:/bin/sh\n",
        "/etc/group": b"root:x:0:\n",
    }
    rootfs.env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    return rootfs


def _closure(names: Iterable[str]) -> list[importlib.metadata.Distribution]:
    """The distributions and their installed dependencies (extras' dependencies excluded)."""
    seen: dict[str, importlib.metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-").replace(".", "-")
        if key in seen:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # a dependency for another platform or Python: not installed, not needed
        seen[key] = dist
        for requirement in dist.requires or []:
            if "extra" in requirement.partition(";")[2]:
                continue
            match = _NAME.match(requirement.strip())
            if match:
                todo.append(match.group(0))
    return list(seen.values())


def _shared_libraries(elves: Sequence[Path]) -> dict[str, Path]:
    """What ``ldd`` says the ELF files load, by the path they load it as."""
    libs: dict[str, Path] = {}
    for start in range(0, len(elves), 200):
        done = subprocess.run(
            ["ldd", *map(str, elves[start : start + 200])],
            capture_output=True,
            text=True,
            check=False,
        )
        for line in done.stdout.splitlines():
            words = line.split()
            path = words[2] if len(words) > 2 and words[1] == "=>" else words[0] if words else ""
            if path.startswith("/") and Path(path).is_file():
                libs[path] = Path(path)
    return libs


def python_rootfs(distributions: Sequence[str] = ("awscli",)) -> Rootfs:
    """busybox, this interpreter at its host path, its stdlib, and ``distributions``."""
    rootfs = busybox_rootfs()
    exe = Path(os.path.realpath(sys.executable))
    rootfs.files[str(exe)] = exe
    bin_dir = exe.parent
    for entry in bin_dir.iterdir():
        if entry.is_symlink() and entry.resolve() == exe:
            rootfs.symlinks[str(entry)] = str(entry.readlink())
    rootfs.symlinks["/usr/local/bin/python3"] = str(exe)
    if sys.prefix != sys.base_prefix:
        # A virtual environment (tox's): console scripts' #! lines name its bin/python, and
        # Python finds the venv's site-packages from the pyvenv.cfg beside that bin/.
        for entry in Path(sys.executable).parent.iterdir():
            if entry.is_symlink() and Path(os.path.realpath(entry)) == exe:
                rootfs.symlinks[str(entry)] = str(exe)
        config = Path(sys.prefix) / "pyvenv.cfg"
        rootfs.files[str(config)] = config
    stdlib = Path(sysconfig.get_path("stdlib"))
    for dirpath, dirnames, filenames in os.walk(stdlib):
        here = Path(dirpath)
        if here == stdlib:
            dirnames[:] = [
                d for d in dirnames if d not in _STDLIB_SKIP and not d.startswith("config-")
            ]
        for name in filenames:
            path = here / name
            if name.startswith("_tkinter") or path.is_symlink():
                continue
            rootfs.files[str(path)] = path
    scripts = Path(sysconfig.get_path("scripts"))
    for dist in _closure(distributions):
        for item in dist.files or []:
            path = Path(os.path.normpath(item.locate()))
            if not path.is_file():
                continue
            rootfs.files[str(path)] = path
            if path.parent == scripts:
                rootfs.symlinks[f"/usr/local/bin/{path.name}"] = str(path)
    elves = [exe, *(Path(p) for p in rootfs.files if p.endswith(".so") or ".so." in p)]
    for dest, lib in _shared_libraries(elves).items():
        rootfs.files.setdefault(dest, lib)
    return rootfs


def build_image(client: Any, name: str, rootfs: Rootfs) -> str:
    """``localhost/<name>:<hash>`` in the engine, imported from ``rootfs`` unless already there."""
    errors = sdk("docker.errors")
    repository = f"localhost/{name}"
    tag = rootfs.digest()
    reference = f"{repository}:{tag}"
    with contextlib.suppress(errors.ImageNotFound):
        client.images.get(reference)
        return reference
    work = cache_dir() / "images"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        tarball = Path(tmp) / "rootfs.tar"
        rootfs.write_tar(tarball)
        changes = [f"ENV {k}={v}" for k, v in rootfs.env.items()]
        answer = client.api.import_image_from_file(str(tarball), changes=changes)
    ids = re.findall(r"sha256:[0-9a-f]{64}", str(answer))
    if not ids:
        raise RuntimeError(f"the engine did not report an image id for {reference}: {answer}")
    client.images.get(ids[-1]).tag(repository, tag)
    # Older builds of the same name only take space: drop them (ours, by construction).
    for image in client.images.list(name=repository):
        for other in image.tags:
            if other.startswith(f"{repository}:") and other != reference:
                with contextlib.suppress(errors.APIError):
                    client.images.remove(other)
    return reference


def busybox_image(client: Any) -> str:
    """A busybox-only image (no Python, no libc): the relay's own test bed."""
    return build_image(client, "smp-compat-busybox", busybox_rootfs())


def python_image(client: Any, distributions: Sequence[str] = ("awscli",)) -> str:
    """An image that runs this machine's Python and ``distributions`` (default: AWS CLI v1)."""
    name = "smp-compat-" + "-".join(sorted(d.lower() for d in distributions))
    return build_image(client, name, python_rootfs(distributions))
