"""``junit.xml``: one testcase per matrix cell, so every JUnit consumer in CI shows the matrix.

Each tool variant is a testsuite (its version, mode and source as properties); each cell is a
testcase ``classname="<tool>.<variant>" name="<scenario>[<release>]"``. ``fail`` cells carry
the reason and the remedy, ``error`` cells are JUnit errors (the kit could not judge: not a
pass), ``skipped`` and ``n/a`` cells are skipped with their reason. Written with ElementTree
(junitparser, which the tests read it back with, took 2 s to build 5,000 cells).

The file is committed beside ``matrix.json``, so only its first element, ``<testsuites>``, holds
what changes between two runs of one commit: the run's ``timestamp`` and ``time`` (seconds).
Suites and testcases carry no ``time`` (JUnit makes it optional); each cell's own duration is
in no report, the slowest ones are in ``matrix.json``'s run header.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from compat.report.escape import xml_text
from compat.report.model import Matrix
from compat.verdict import reasons

__all__ = ["build", "testcase_name", "write"]


def testcase_name(cell: Mapping[str, Any]) -> tuple[str, str]:
    """``(classname, name)`` of a cell's testcase."""
    return f"{cell['tool']}.{cell['variant']}", f"{cell['scenario']}[{cell['release']}]"


def _body(cell: Mapping[str, Any]) -> str:
    lines = []
    if cell.get("explanation"):
        lines.append(f"why: {cell['explanation']}")
    if cell.get("remedy"):
        lines.append(f"fix: {cell['remedy']}")
    if cell.get("detail"):
        lines.append(f"seen: {cell['detail']}")
    for name, path in (cell.get("evidence") or {}).items():
        lines.append(f"evidence {name}: {path}")
    return "\n".join(lines)


def _properties(parent: ET.Element, items: Mapping[str, object]) -> None:
    props = ET.SubElement(parent, "properties")
    for name, value in items.items():
        if value:
            ET.SubElement(props, "property", name=name, value=str(value))


def build(document: Mapping[str, Any]) -> ET.Element:
    """The ``<testsuites>`` element for a matrix document."""
    matrix = Matrix(document)
    root = ET.Element("testsuites", name="smp-compat")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for row in matrix.rows:
        suite = ET.SubElement(root, "testsuite", name=f"{row['tool']}.{row['variant']}")
        _properties(
            suite,
            {k: row.get(k) for k in ("tool", "variant", "version", "mode", "kind", "source")}
            | {"plugin": matrix.run["plugin"]["kind"]},
        )
        counts = dict.fromkeys(totals, 0)
        for column in matrix.columns:
            cell = matrix.cell(row["id"], column["id"])
            if cell is None:
                continue
            classname, name = testcase_name(cell)
            case = ET.SubElement(suite, "testcase", name=name, classname=classname)
            _properties(case, {"plugin_release": cell["release"], "tool_version": row["version"]})
            counts["tests"] += 1
            outcome, code = cell["outcome"], cell.get("reason") or ""
            message = f"{code}: {cell.get('explanation') or ''}".strip(": ")
            if outcome in ("fail", "error"):
                tag = "failure" if outcome == "fail" else "error"
                result = ET.SubElement(case, tag, message=message, type=code)
                result.text = _body(cell)
                counts["failures" if outcome == "fail" else "errors"] += 1
            elif outcome in ("skipped", "n/a"):
                ET.SubElement(case, "skipped", message=f"{outcome}: {message}")
                counts["skipped"] += 1
            warnings = cell.get("warnings") or ()
            if warnings:
                texts = []
                for warning in warnings:
                    reason = reasons.REASONS.get(warning)
                    texts.append(f"warning {warning}: {reason.remedy if reason else ''}".strip())
                ET.SubElement(case, "system-out").text = "\n".join(texts)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("timestamp", str(matrix.run["started_at"]))
    root.set("time", f"{float(matrix.run['duration_s']):.3f}")
    _make_well_formed(root)
    return root


def _make_well_formed(root: ET.Element) -> None:
    """Drop what XML 1.0 cannot hold (a tool's ANSI colours, NULs): ElementTree escapes
    markup but writes control characters as they are, and no parser reads them back."""
    for element in root.iter():
        if element.text:
            element.text = xml_text(element.text)
        for key, value in element.attrib.items():
            element.set(key, xml_text(value))


def write(document: Mapping[str, Any], path: Path) -> Path:
    """Write ``junit.xml`` at ``path`` (callers write into a temporary directory)."""
    tree = ET.ElementTree(build(document))
    ET.indent(tree, space=" ")
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path
