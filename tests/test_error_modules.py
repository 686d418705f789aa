"""Each package keeps its exceptions in its ``errors`` module, under the kit's two roots.

``compat/errors.py`` promises it: a maintainer looking for what a package can raise opens one
file, and every kit exception says whose fault it is (``UserError``: the user can fix it;
``KitError``: the kit or its environment failed). Read with ``ast``, so the check imports
nothing (no moto, no docker SDK) and names the file and line of a class out of place.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("compat", "fake_plugin")

#: Public exceptions allowed outside an ``errors`` module, each with the reason.
OUTSIDE_ERRORS = {
    # moto's ServiceException subclasses: moving them would make compat/fakeaws/errors.py
    # import moto (and moto reads the service of an AwsError from its module's name).
    "compat/fakeaws/moto_base.py:AwsError": "moto ServiceException",
    "compat/fakeaws/guard.py:OutboundRefusedError": "moto ServiceException",
}

_BUILTIN_EXCEPTIONS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}
#: Exception bases from libraries, named as the kit's modules import them.
_LIBRARY_EXCEPTIONS = {"ServiceException"}


def _classes() -> Iterator[tuple[Path, ast.ClassDef]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    yield path.relative_to(ROOT), node


def _base_names(node: ast.ClassDef) -> list[str]:
    """The bases' last names: ``errors.KitError`` and ``KitError`` alike."""
    names = []
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.append(base.id)
        elif isinstance(base, ast.Attribute):
            names.append(base.attr)
    return names


def _exceptions() -> dict[str, list[tuple[Path, ast.ClassDef]]]:
    """Every class that derives, directly or through the kit's own classes, from an
    exception: name -> where each class of that name is defined."""
    classes = list(_classes())
    known = _BUILTIN_EXCEPTIONS | _LIBRARY_EXCEPTIONS
    found: dict[str, list[tuple[Path, ast.ClassDef]]] = {}
    changed = True
    while changed:
        changed = False
        for path, node in classes:
            if any(name in known for name in _base_names(node)):
                where = found.setdefault(node.name, [])
                if (path, node) not in where:
                    where.append((path, node))
                    known.add(node.name)
                    changed = True
    return found


def _roots(name: str, exceptions: dict[str, list[tuple[Path, ast.ClassDef]]]) -> set[str]:
    """The kit roots (``UserError``, ``KitError``) ``name`` derives from."""
    if name in ("UserError", "KitError"):
        return {name}
    roots: set[str] = set()
    for _, node in exceptions.get(name, []):
        for base in _base_names(node):
            if base != name:
                roots |= _roots(base, exceptions)
    return roots


def test_the_scan_sees_the_kits_exceptions() -> None:
    exceptions = _exceptions()
    for name in ("UserError", "KitError", "AdapterError", "GoPanic", "AwsError"):
        assert name in exceptions


def test_public_exceptions_live_in_errors_modules() -> None:
    misplaced = [
        f"{path}:{node.lineno}: {node.name}"
        for where in _exceptions().values()
        for path, node in where
        if path.name != "errors.py"
        and not node.name.startswith("_")
        and f"{path}:{node.name}" not in OUTSIDE_ERRORS
    ]
    assert misplaced == [], "define these in their package's errors.py"


def test_the_allow_list_names_only_what_exists() -> None:
    here = {f"{path}:{node.name}" for where in _exceptions().values() for path, node in where}
    assert sorted(set(OUTSIDE_ERRORS) - here) == []


def test_every_kit_exception_says_whose_fault_it_is() -> None:
    exceptions = _exceptions()
    rootless = [
        f"{path}:{node.lineno}: {node.name}"
        for where in exceptions.values()
        for path, node in where
        if path.parts[0] == "compat"
        and path.name == "errors.py"
        and path != Path("compat/errors.py")
        and not _roots(node.name, exceptions)
    ]
    assert rootless == [], "derive these from compat.errors.UserError or KitError"


def test_exception_names_are_unique() -> None:
    twice = {
        name: [f"{path}:{node.lineno}" for path, node in where]
        for name, where in _exceptions().items()
        if len(where) > 1
    }
    assert twice == {}
