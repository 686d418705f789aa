"""Read adapter TOML files into :mod:`compat.adapter.model` objects, or say exactly what is wrong.

Every problem names the file, the dotted key (with the variant's index and version), what was
expected and what was found, with a "did you mean" hint for near-miss names. All problems of a
file are reported together, so a maintainer fixes them in one pass.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, cast

from compat.adapter.errors import AdapterError, CombinedAdapterError
from compat.adapter.filepaths import file_path_problem
from compat.adapter.lookup import allowed
from compat.adapter.model import Adapter, Kind, Variant
from compat.adapter.problems import (
    Problem,
    describe,
    join,
)
from compat.adapter.reader import FileReader
from compat.adapter.variant import MAX_NAME_LENGTH, read_variant

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_NAME_LENGTH",
    "Problem",
    "builtin_paths",
    "file_path_problem",
    "load_adapter",
    "load_adapters",
]

#: An adapter file is a few kilobytes (the largest built-in is 5 KB); a bigger one is refused
#: before it is parsed, so a hostile file cannot make the kit parse megabytes.
MAX_FILE_BYTES = 1024 * 1024
#: Tables and arrays nested deeper than this are not an adapter (the deepest real one is 4).
_MAX_DEPTH = 16

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")
_TOML_POS_RE = re.compile(r"\(at line (\d+), column (\d+)\)")


def _walk_problems(doc: Mapping[str, Any]) -> list[Problem]:
    """NUL characters and nesting deeper than :data:`_MAX_DEPTH`, anywhere in the document.

    A NUL cannot be passed in argv, an environment variable or a file name: it would fail at
    run time as a ``harness-error``; here it names its key instead.
    """
    problems: list[Problem] = []
    stack: list[tuple[str, object, int]] = [("", doc, 0)]
    while stack:
        key, value, depth = stack.pop()
        if depth > _MAX_DEPTH:
            problems.append(Problem(key, f"nested more than {_MAX_DEPTH} levels deep"))
            continue
        if isinstance(value, str):
            if "\0" in value:
                problems.append(Problem(key, "contains a NUL character (\\u0000)"))
        elif isinstance(value, dict):
            for name, item in value.items():
                sub = join(key, name)
                if "\0" in name:
                    problems.append(Problem(sub, "the key contains a NUL character (\\u0000)"))
                stack.append((sub, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{key}[{i}]", item, depth + 1) for i, item in enumerate(value))
    return sorted(problems, key=lambda p: p.key)


def _parse_toml(path: Path, data: bytes) -> dict[str, Any]:
    def refuse(message: str) -> AdapterError:
        return AdapterError(path, [Problem("", message)])

    if len(data) > MAX_FILE_BYTES:
        raise refuse(
            f"{len(data)} bytes or more; an adapter file is at most {MAX_FILE_BYTES} bytes"
        )
    if data.startswith(b"\xef\xbb\xbf"):
        raise refuse("starts with a byte-order mark; save it as UTF-8 without BOM")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise refuse(
            f"not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
        ) from None
    except RecursionError:
        raise refuse(f"arrays or tables nested too deeply (at most {_MAX_DEPTH})") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POS_RE.search(message)
        line = int(match[1]) if match else None
        column = int(match[2]) if match else None
        text = _TOML_POS_RE.sub("", message).strip()
        raise AdapterError(path, [Problem("", f"invalid TOML: {text}", line, column)]) from None


def _adapter(path: Path, doc: Mapping[str, Any]) -> Adapter:
    walked = _walk_problems(doc)
    if walked:
        raise AdapterError(path, walked)
    fl = FileReader(path)
    fl.keys(doc, allowed("tool"), "")
    name = fl.declared(doc, "tool", "name", "")
    if name is not None and not _NAME_RE.fullmatch(name):
        fl.fail(
            "name", f"expected lowercase letters, digits, . _ - (a cell id segment), found {name!r}"
        )
    elif name is not None and len(name) > MAX_NAME_LENGTH:
        fl.fail("name", f"expected at most {MAX_NAME_LENGTH} characters, found {len(name)}")
    homepage = fl.declared(doc, "tool", "homepage", "")
    kind = cast(Kind | None, fl.declared(doc, "tool", "kind", ""))
    raw_variants = doc.get("variant")
    variants: list[Variant] = []
    if not isinstance(raw_variants, list) or not raw_variants:
        fl.fail(
            "variant", f"expected at least one [[variant]] table, found {describe(raw_variants)}"
        )
    else:
        seen: dict[str, int] = {}
        for i, raw in enumerate(raw_variants):
            variant = read_variant(fl, raw, i, kind)
            if variant is None:
                continue
            if variant.id in seen:
                fl.fail(
                    f"variant[{i}] ({variant.version})",
                    f"id {variant.id!r} is already used by variant[{seen[variant.id]}]; "
                    'give one of them id = "…"',
                )
            seen.setdefault(variant.id, i)
            variants.append(variant)
    if fl.problems:
        raise AdapterError(path, fl.problems)
    assert name is not None and homepage is not None and kind is not None
    return Adapter(
        name=name,
        homepage=homepage,
        kind=kind,
        variants=tuple(variants),
        description=cast(str, doc.get("description", "")),
        path=path,
    )


def load_adapter(path: Path | str, data: bytes | None = None) -> Adapter:
    """Load one adapter file; :class:`AdapterError` lists every problem in it."""
    path = Path(path)
    if data is None:
        try:
            if not path.is_file():
                what = "no such file" if not path.exists() else "not a regular file"
                raise AdapterError(path, [Problem("", f"cannot read: {what}")])
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise AdapterError(path, [Problem("", f"cannot read: {exc.strerror}")]) from None
    return _adapter(path, _parse_toml(path, data))


def builtin_paths() -> list[Path]:
    """The adapter files shipped in the ``adapters`` package, sorted by name."""
    root = resources.files("adapters")
    return sorted(
        (Path(str(entry)) for entry in root.iterdir() if entry.name.endswith(".toml")),
        key=lambda p: p.name,
    )


def _expand(paths: Iterable[Path | str]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.glob("*.toml"))
            if not found:
                raise AdapterError(path, [Problem("", "directory holds no *.toml adapter files")])
            yield from found
        else:
            yield path


def load_adapters(paths: Iterable[Path | str] = (), *, builtin: bool = True) -> tuple[Adapter, ...]:
    """The built-in adapters (unless ``builtin=False``) followed by the user's files.

    ``paths`` may name files or directories (every ``*.toml`` in them). Two adapters with the
    same ``name`` are an error naming both files: a user adapter never silently shadows a
    built-in one.
    """
    files = [*(builtin_paths() if builtin else []), *_expand(paths)]
    adapters: list[Adapter] = []
    errors: list[AdapterError] = []
    by_name: dict[str, Adapter] = {}
    for path in files:
        try:
            adapter = load_adapter(path)
        except AdapterError as exc:
            errors.append(exc)
            continue
        previous = by_name.get(adapter.name)
        if previous is not None:
            if previous.path is not None and previous.path.resolve() == path.resolve():
                continue
            errors.append(
                AdapterError(
                    path,
                    [
                        Problem(
                            "name",
                            f"tool {adapter.name!r} is already defined in {previous.path}; "
                            "rename one of them",
                        )
                    ],
                )
            )
            continue
        by_name[adapter.name] = adapter
        adapters.append(adapter)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise CombinedAdapterError(errors)
    return tuple(adapters)
