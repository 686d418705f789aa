"""Where an adapter's ``files`` may write: the one check of a path, shared with the runner."""

from __future__ import annotations

__all__ = ["file_path_problem"]


def file_path_problem(name: str) -> str | None:
    """Why ``name`` cannot be a ``files`` key, or ``None`` if it can: the one check of a path.

    ``~/…`` lands in the cell's HOME, any other path in its working directory; below either, a
    relative path of plain components: no ``..``, ``.`` or empty component, not absolute, no
    NUL or backslash. The loader refuses the file;
    :func:`compat.runner.cellfiles.write_inside` checks again before it writes.
    """
    home = name == "~" or name.startswith("~/")
    if name.startswith("~") and not home:
        return "expected ~/… (the cell's HOME); ~user is not the cell's"
    rest = name[2:] if home else name
    if not name:
        return "expected a relative file path, found an empty name"
    if not rest or rest.endswith("/"):
        return f"expected a file name (a relative path of plain names), found a directory {name!r}"
    if "\0" in rest or "\\" in rest:
        return f"expected a relative file path without backslashes or NUL, found {name!r}"
    if rest.startswith("/"):
        return (
            "expected a path relative to the cell's working directory, or ~/… for its HOME; "
            f"found an absolute path {name!r}"
        )
    parts = rest.split("/")
    if ".." in parts:
        hint = '; the cell\'s HOME is ~/ (e.g. "~/.config/tool/config.yaml")' if not home else ""
        return (
            "'..' may not climb out of the cell: expected a relative path of plain names under "
            f"its working directory, or ~/… for its HOME{hint}"
        )
    if any(part in ("", ".") for part in parts):
        return (
            f"expected a relative path of plain names (no '..', '.', '//' or trailing '/'), "
            f"found {name!r}"
        )
    if any(len(part.encode()) > 255 for part in parts) or len(name.encode()) > 1024:
        return f"expected names of at most 255 bytes, found {name[:40]!r}… ({len(name)} chars)"
    return None
