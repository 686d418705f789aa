"""Write an adapter's ``files`` under a cell's directory, never anywhere else.

A key may name subdirectories (``"sub/dir/x"``). Every component is created or opened
relative to the one before it with ``O_NOFOLLOW``, so a symlink already in the tree (planted by
an earlier step, or a HOME the sandbox prepared) cannot carry the write out of ``root``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from compat.adapter.load import file_path_problem
from compat.runner.errors import UnsafeFilePathError

__all__ = ["write_inside"]


def write_inside(root: Path, name: str, text: str) -> Path:
    """Write ``text`` to ``root/name`` (UTF-8), creating its directories; return the path.

    Raises:
        UnsafeFilePathError: ``name`` fails :func:`file_path_problem`, or a directory on the
            way (or the file itself) is a symlink.
    """
    problem = file_path_problem(name)
    if problem is not None:
        raise UnsafeFilePathError(problem)
    *dirs, leaf = name.split("/")
    nofollow = os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | nofollow)
    try:
        for part in dirs:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=fd)
            try:
                sub = os.open(part, os.O_RDONLY | os.O_DIRECTORY | nofollow, dir_fd=fd)
            except OSError as exc:
                raise UnsafeFilePathError(
                    f"{name!r}: {part!r} is not a directory of the cell (a symlink or a file)"
                ) from exc
            os.close(fd)
            fd = sub
        try:
            out = os.open(leaf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | nofollow, 0o644, dir_fd=fd)
        except OSError as exc:
            raise UnsafeFilePathError(f"{name!r}: cannot write it ({exc.strerror})") from exc
        with os.fdopen(out, "w", encoding="utf-8") as handle:
            handle.write(text)
    finally:
        os.close(fd)
    return root / name
