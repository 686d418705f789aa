"""The JSON Schema of ``matrix.json`` and the check every reader and writer runs against it.

A report is only as good as the document under it, so ``validate`` fails loudly with the JSON
path of the first problem, checks what a schema cannot (cells pointing at real rows and
columns, no duplicates), and answers a file of another ``schema_version`` with what to do.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from compat.report.errors import MatrixInvalidError, MatrixVersionError

__all__ = ["SCHEMA_VERSION", "load_schema", "validate"]

#: The matrix.json version this kit reads and writes
#: (kept equal to compat.report.matrix.SCHEMA_VERSION).
SCHEMA_VERSION = 1


@cache
def load_schema() -> Mapping[str, Any]:
    """The schema shipped beside this module (``matrix.schema.json``)."""
    text = resources.files(__package__).joinpath("matrix.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _inlined() -> dict[str, Any]:
    """The schema with its ``$defs`` inlined: reference resolution per cell made validating a
    5,000-cell matrix 2.5x slower."""
    schema = load_schema()
    defs = schema["$defs"]

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"$ref"}:
                return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: inline(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    inlined: dict[str, Any] = inline(schema)
    return inlined


@cache
def _validator() -> Any:
    """The reference validator (jsonschema, draft 2020-12): it names the best-matching fault."""
    import jsonschema  # noqa: PLC0415 - only readers and writers pay for it

    return jsonschema.Draft202012Validator(_inlined())


@cache
def _fast_check() -> Callable[[object], object]:
    """The same schema compiled to Python by fastjsonschema: about ten times faster than
    jsonschema on big matrices (issue 12), so jsonschema only runs to explain a fault. The
    inlined schema uses no keyword newer than draft 7, which fastjsonschema implements."""
    import fastjsonschema  # noqa: PLC0415 - only readers and writers pay for it

    schema = {**_inlined(), "$schema": "http://json-schema.org/draft-07/schema#"}
    check: Callable[[object], object] = fastjsonschema.compile(schema)
    return check


def _json_path(parts: object) -> str:
    path = "$"
    for part in parts:  # type: ignore[attr-defined]
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def validate(document: object, source: str = "matrix.json") -> None:
    """Raise :class:`MatrixInvalidError` (or :class:`MatrixVersionError`) unless ``document``
    is a matrix.json this kit can render; ``source`` names the file in the message."""
    import jsonschema  # noqa: PLC0415 - only readers and writers pay for it

    if not isinstance(document, Mapping):
        raise MatrixInvalidError(
            f"expected a JSON object, found {type(document).__name__}", "$", source
        )
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        hint = (
            "re-run `smp-compat run` with this kit to regenerate it"
            if isinstance(version, int) and version < SCHEMA_VERSION
            else "read it with the smp-compat release that wrote it, or upgrade this one"
        )
        if document.get("kind") != "smp-compat-matrix" and version is None:
            hint = "is this an smp-compat matrix.json? It has no schema_version"
        raise MatrixVersionError(
            f"schema_version {version!r}; this smp-compat reads schema_version {SCHEMA_VERSION}: "
            f"{hint}",
            "$.schema_version",
            source,
        )
    import fastjsonschema  # noqa: PLC0415

    try:
        _fast_check()(document)
    except fastjsonschema.JsonSchemaValueException as fault:
        error = jsonschema.exceptions.best_match(_validator().iter_errors(document))
        if error is None:  # the two validators disagree: still refuse, with fastjsonschema's words
            raise MatrixInvalidError(str(fault), "$", source) from None
        raise MatrixInvalidError(error.message, _json_path(error.absolute_path), source) from None
    _check_references(document, source)


def _finite(value: object, path: str, source: str) -> None:
    """JSON has no NaN or infinity (RFC 8259 §6); Python writes them and the page cannot
    parse them, and the schema's ``minimum`` lets NaN through."""
    if isinstance(value, float) and not math.isfinite(value):
        raise MatrixInvalidError(f"{value} is not a finite number", path, source)


def _check_references(document: Mapping[str, Any], source: str) -> None:
    """What JSON Schema cannot say: ids are unique and made of their parts (a row is
    ``tool/variant``, a column ``scenario/release``, a cell ``row/column``), and every cell sits
    on a known row and column and repeats their fields. A hand-edited or tampered document
    (a merged shard, a committed baseline) fails here instead of rendering a different grid."""
    known = {key: _ids(document, key, source) for key in _PARTS}
    for key in ("duration_s", "timeout_s", "cells_per_second", "median_overhead_s"):
        _finite(document["run"].get(key), f"$.run.{key}", source)
    places: set[tuple[str, str]] = set()
    for index, cell in enumerate(document["cells"]):
        _check_cell(cell, f"$.cells[{index}]", known, source)
        place = (cell["row"], cell["column"])
        if place in places:
            raise MatrixInvalidError(
                f"a second cell for {cell['row']} x {cell['column']}", f"$.cells[{index}]", source
            )
        places.add(place)
    counts = dict.fromkeys(document["summary"], 0)
    for cell in document["cells"]:
        counts[cell["outcome"]] += 1
    if counts != dict(document["summary"]):
        raise MatrixInvalidError(
            f"{dict(document['summary'])} does not match the cells ({counts})", "$.summary", source
        )


#: The two fields a row's and a column's id are made of.
_PARTS = {"rows": ("tool", "variant"), "columns": ("scenario", "release")}


def _ids(document: Mapping[str, Any], key: str, source: str) -> dict[str, Mapping[str, Any]]:
    """``$.rows`` or ``$.columns`` by id; each id unique and made of its two parts."""
    first, second = _PARTS[key]
    seen: dict[str, Mapping[str, Any]] = {}
    for index, item in enumerate(document[key]):
        if item["id"] in seen:
            raise MatrixInvalidError(f"duplicate id {item['id']!r}", f"$.{key}[{index}].id", source)
        if item["id"] != f"{item[first]}/{item[second]}":
            raise MatrixInvalidError(
                f"id {item['id']!r} is not {first}/{second}", f"$.{key}[{index}].id", source
            )
        seen[item["id"]] = item
    return seen


def _check_cell(
    cell: Mapping[str, Any],
    where: str,
    known: Mapping[str, Mapping[str, Mapping[str, Any]]],
    source: str,
) -> None:
    """One cell: finite durations, a known row and column whose fields it repeats, its id."""
    for key in ("duration_s", "tool_duration_s"):
        _finite(cell.get(key), f"{where}.{key}", source)
    for key, plural in (("row", "rows"), ("column", "columns")):
        owner = known[plural].get(cell[key])
        if owner is None:
            raise MatrixInvalidError(
                f"{cell[key]!r} is not in $.{plural}", f"{where}.{key}", source
            )
        for name in _PARTS[plural]:
            if cell[name] != owner[name]:
                raise MatrixInvalidError(
                    f"{cell[name]!r} differs from its {key}'s {owner[name]!r}",
                    f"{where}.{name}",
                    source,
                )
    if cell["id"] != f"{cell['row']}/{cell['column']}":
        raise MatrixInvalidError(f"id {cell['id']!r} is not row/column", f"{where}.id", source)
