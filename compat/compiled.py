"""The kit's small C programs, each compiled once per source text and compiler into the cache.

The native launcher, the cell jail and the static container relay are built the same way: the
system's compiler on one ``.c`` file, the binary at
``<cache>/<kind>/<sha256 of source and compiler>/<name>``, so a changed source or another
compiler makes a new entry and a finished one is reused without a lock. The binary is written
in a fresh private directory (``mkdtemp``: a name nobody could predict, mode 700) and renamed
into place, never written through a link planted at its path; concurrent builders race
harmlessly, each renaming a whole file.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from compat.cache import cache_dir
from compat.errors import CompileError

__all__ = ["compiled", "place"]


def compiled(
    source: Path,
    kind: str,
    name: str,
    flags: Sequence[str],
    *,
    compiler: str,
    env: Mapping[str, str] | None = None,
) -> Path:
    """``source`` compiled with ``compiler FLAGS -o <name> source``; the cached binary.

    Raises:
        CompileError: no such compiler, or the compile failed (the command and the
            compiler's output).
    """
    text = source.read_bytes()
    digest = hashlib.sha256(text + compiler.encode()).hexdigest()[:16]
    target = cache_dir() / kind / digest / name
    if target.is_file():
        return target
    found = shutil.which(compiler)
    if found is None:
        raise CompileError(f"no C compiler {compiler!r}")
    target.parent.mkdir(parents=True, exist_ok=True)

    def compile_into(tmp: Path) -> None:
        argv = [found, *flags, "-o", str(tmp), str(source)]
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            check=False,
            env=None if env is None else dict(env),
        )
        if done.returncode != 0 or not tmp.is_file():
            raise CompileError(f"{' '.join(argv)}: {done.stderr.strip()}")

    return place(target, compile_into)


def place(target: Path, make: Callable[[Path], None]) -> Path:
    """Put the file ``make(tmp)`` creates at ``target`` in one rename, following no planted
    link: ``tmp`` lies in a fresh private directory beside ``target``, and a symlink already at
    ``target`` is replaced, never written through."""
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    tmp = scratch / target.name
    try:
        make(tmp)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
        scratch.rmdir()
    return target
