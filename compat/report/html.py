"""``index.html``: the matrix as one self-contained page (inline CSS and JS, no network).

The KMS answer comes first (:mod:`compat.report.headline`). Rows are tool variants grouped by
tool, columns are scenarios x plugin releases with a pass rate under each. Every cell has a
colour *and* a symbol; a failing cell shows its reason code, a pass with warnings stays green
with a small marker (a working session should read as one), and every cell opens its reason,
explanation, remedy and evidence on click. Releases (and tool versions) with
identical results fold together by default. Without JavaScript the grid and a findings list
with every fix still read. Every string from matrix.json is escaped here or set with
``textContent`` in the page's script.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from compat.report.escape import clean, safe_link
from compat.report.html_findings import findings, headline
from compat.report.html_text import CSS_NAME, SYMBOL, esc
from compat.report.model import STATUSES, Matrix, Tally, status_of
from compat.verdict import reasons

__all__ = ["render", "write"]

_STATUS_ORDER = list(STATUSES)


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("assets", name).read_text("utf-8")


def _homepage(row: Mapping[str, Any]) -> str | None:
    """A row's homepage when it is a plain ``https:`` URL (the only links out of the page)."""
    url = row.get("homepage")
    if isinstance(url, str) and url.startswith("https://") and clean(url) == url.strip() == url:
        return url
    return None


def _script_json(data: object) -> str:
    """JSON that cannot close its ``<script>`` element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


class _Strings:
    """Interns repeated texts (explanations and remedies repeat across hundreds of cells)."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, text: object) -> int | None:
        if text is None or text == "":
            return None
        value = str(text)
        found = self._index.get(value)
        if found is None:
            found = self._index[value] = len(self.items)
            self.items.append(value)
        return found


def _pct(tally: Tally) -> str:
    percent = tally.percent
    if percent is None:
        unknown = tally.counts["skipped"] + tally.counts["n/a"]
        return f"<b>–</b>{unknown} not judged" if unknown else "<b>–</b>"  # noqa: RUF001
    return f"<b>{percent}%</b>{tally.passed}/{tally.judged}"


def _checked(matrix: Matrix, row: Mapping[str, Any]) -> str:
    """The badge of a replay compared with its real release (``compat.verdict.agreement``)."""
    check = matrix.replay_check(str(row["id"]))
    if check is None:
        return ""
    if check["agree"]:
        title = f"checked against the real program: {check['row']} agrees in {check['cells']} cells"
        return f'<span class="checked" title="{esc(title)}">✓ checked</span>'
    title = f"the real program disagrees ({check['row']}): " + "; ".join(check["disagreements"])
    return f'<span class="disagrees" title="{esc(title)}">≠ real</span>'


def _meta(matrix: Matrix) -> str:
    run = matrix.run
    plugin = run["plugin"]
    duration = f"{run['duration_s']} s, {run['jobs']} jobs, timeout {run['timeout_s']} s per cell"
    if plugin["kind"] == "real":
        plugin_text = f"real binary {plugin.get('real_binary')}"
    else:
        plugin_text = "fake (emulated releases " + ", ".join(plugin["releases"]) + ")"
    items: list[tuple[str, str]] = [
        ("finished", str(run["finished_at"])),
        ("duration", duration),
        ("plugin", plugin_text),
        ("smp-compat", str(run.get("kit_version") or "unknown")),
        ("moto", str(run.get("moto_version") or "unknown")),
    ]
    isolation = run.get("isolation") or {}
    if isolation:
        items.append(("isolation", str(isolation.get("warning") or isolation.get("mode"))))
    host = run.get("host") or {}
    if host:
        items.append(("host", " · ".join(str(v) for v in host.values() if v)))
    filters = {k: v for k, v in (run.get("filters") or {}).items() if v}
    if filters:
        items.append(("filters", "; ".join(f"--{k} {' '.join(v)}" for k, v in filters.items())))
    if run.get("cells_per_second") is not None:
        speed = (
            f"{run['cells_per_second']} cells/s, median overhead {run.get('median_overhead_s')} s"
        )
        items.append(("speed", speed))
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items)
    return (
        f'<details class="meta"><summary>Run: {esc(run["finished_at"])}</summary>'
        f"<dl>{rows}</dl></details>"
    )


def _legend() -> str:
    items = "".join(
        f'<li><span class="sym s-{CSS_NAME[k]}" aria-hidden="true">{esc(SYMBOL[k])}</span>'
        f'<span><b>{esc(s.label)}</b><span class="means"> — {esc(s.meaning)}</span></span></li>'
        for k, s in STATUSES.items()
    )
    return f'<ul class="legend" aria-label="Legend">{items}</ul>'


def _head(matrix: Matrix) -> str:
    top = ['<tr><th class="corner" rowspan="2" scope="col">tool · version</th>']
    rel = ["<tr>"]
    pct = [
        '<tr><th class="corner pctlabel" scope="row" title="passes among judged cells">'
        "pass rate<small>passes / judged</small></th>"
    ]
    for block in matrix.blocks:
        scenario = block.scenario
        top.append(
            f'<th class="scen" scope="colgroup" colspan="{len(block.columns)}" '
            f'data-all="{len(block.columns)}" data-merged="{len(block.groups)}" '
            f'title="{esc(scenario.get("why", ""))}">'
            f'<span class="title">{esc(scenario.get("title") or scenario["name"])}</span>'
            f"<small><code>{esc(scenario['name'])}</code></small></th>"
        )
        for group in block.groups:
            for position, column in enumerate(group):
                classes = ["rel"]
                if position:
                    classes.append("dup")
                elif len(group) > 1:
                    classes.append("lead")
                release = esc(column["release"])
                label = f'<span class="one">{release}</span>'
                if position == 0 and len(group) > 1:
                    label += (
                        f'<span class="merged">{release} …<wbr> {esc(group[-1]["release"])}'
                        '<small class="same">same results</small></span>'
                    )
                names = ", ".join(str(c["release"]) for c in group)
                title = f"identical results on {names}" if len(group) > 1 else ""
                rel.append(
                    f'<th class="{" ".join(classes)}" scope="col" data-col="{esc(column["id"])}"'
                    f' title="{esc(title)}">{label}</th>'
                )
                dup = " dup" if position else ""
                pct.append(f'<td class="pct{dup}">{_pct(matrix.column_tally(column["id"]))}</td>')
    return (
        "<thead>" + "".join(top) + "</tr>" + "".join(rel) + "</tr>" + "".join(pct) + "</tr></thead>"
    )


def _body(matrix: Matrix, data: dict[str, Any], strings: _Strings) -> str:
    row_index = {r["id"]: i for i, r in enumerate(matrix.rows)}
    column_index = {c["id"]: i for i, c in enumerate(matrix.columns)}
    dup_columns = {c["id"] for b in matrix.blocks for g in b.groups for c in g[1:]}
    out: list[str] = []
    current_tool = None
    for group in matrix.row_groups():
        for position, row in enumerate(group):
            if row["tool"] != current_tool:
                if current_tool is not None:
                    out.append("</tbody>")
                out.append(f'<tbody class="tool" data-tool="{esc(row["tool"])}">')
                current_tool = row["tool"]
            tally = matrix.row_tally(row["id"])
            attrs = f' data-row="{esc(row["id"])}"'
            if tally.failing:
                attrs += " data-failing"
            if position:
                attrs += ' class="dup"'
            head_class = "rowh lead" if position == 0 and len(group) > 1 else "rowh"
            tool = esc(row["tool"])
            homepage = _homepage(row)
            if homepage is not None:
                tool = f'<a href="{esc(homepage)}">{tool}</a>'
            merged = ""
            if position == 0 and len(group) > 1:
                # A replay and its run twin share a version: name it once.
                versions = ", ".join(dict.fromkeys(matrix.version_label(r) for r in group))
                merged = (
                    f'<span class="merged">{esc(versions)}'
                    '<small class="same">same results</small></span>'
                )
            summary = f"{tally.passed}/{tally.judged} pass" if tally.judged else "not judged"
            out.append(
                f'<tr{attrs}><th class="{head_class}" scope="row" '
                f'title="{esc(row.get("source") or "")}">'
                f'<span class="tool">{tool}</span>'
                f'<span class="ver">{esc(matrix.version_label(row))}</span>{merged}'
                f'<span class="mode">{esc(row["mode"])}</span>{_checked(matrix, row)}'
                f'<span class="tally">{esc(summary)}</span></th>'
            )
            for column in matrix.columns:
                cell = matrix.cell(row["id"], column["id"])
                dup = " dup" if column["id"] in dup_columns else ""
                if cell is None:
                    out.append(f'<td class="c s-na{dup}">·</td>')
                    continue
                key = status_of(cell)
                status = STATUSES[key]
                index = len(data["cells"])
                evidence = [
                    [strings(name), strings(path), safe_link(path)]
                    for name, path in (cell.get("evidence") or {}).items()
                ]
                data["cells"].append(
                    [
                        row_index[row["id"]], column_index[column["id"]], _STATUS_ORDER.index(key),
                        strings(cell.get("reason")), strings(cell.get("explanation")),
                        strings(cell.get("remedy")), strings(cell.get("detail")),
                        [strings(w) for w in cell.get("warnings") or ()], evidence,
                        strings(cell["id"]),
                    ]
                )  # fmt: skip
                why = cell.get("reason") or ", ".join(cell.get("warnings") or ())
                label = f"{status.label}: {why}" if why else status.label
                shown = esc(SYMBOL[key])
                if key in ("fail", "error") and cell.get("reason"):
                    shown += f'<span class="why">{esc(cell["reason"])}</span>'
                out.append(
                    f'<td class="c s-{CSS_NAME[key]}{dup}">'
                    f'<button type="button" data-i="{index}" '
                    f'title="{esc(label)} — click for details" aria-label="{esc(label)}">'
                    f"{shown}</button></td>"
                )
            out.append("</tr>")
    if current_tool is not None:
        out.append("</tbody>")
    return "".join(out)


def render(
    document: Mapping[str, Any], *, title: str = "session-manager-plugin compatibility"
) -> str:
    """The page for a matrix document, as one string."""
    matrix = Matrix(document)
    strings = _Strings()
    data: dict[str, Any] = {
        "rows": [
            {"tool": r["tool"], "version": r["version"], "source": r.get("source") or ""}
            for r in matrix.rows
        ],
        "columns": [
            {
                "scenario": c["scenario"],
                "release": c["release"],
                "title": next(
                    (
                        b.scenario.get("title", "")
                        for b in matrix.blocks
                        if b.scenario["name"] == c["scenario"]
                    ),
                    "",
                ),
            }
            for c in matrix.columns
        ],
        "statuses": [
            {"symbol": SYMBOL[k], "label": s.label, "css": CSS_NAME[k]} for k, s in STATUSES.items()
        ],
        "cells": [],
    }
    body = _body(matrix, data, strings)
    codes = {str(w) for c in matrix.cells for w in c.get("warnings") or ()}
    data["reasons"] = {
        code: {
            "explanation": reasons.REASONS[code].explanation,
            "remedy": reasons.REASONS[code].remedy,
        }
        for code in sorted(codes)
        if code in reasons.REASONS
    }
    data["strings"] = strings.items
    total = matrix.total()
    chips = "".join(
        f'<li><span class="sym s-{CSS_NAME[k]}" aria-hidden="true">{esc(SYMBOL[k])}</span>'
        f" {total.counts[k]} {esc(s.label)}</li>"
        for k, s in STATUSES.items()
        if total.counts[k]
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{esc(title)}</title><style>{_asset('page.css')}</style></head><body>"
        f"<header><h1>{esc(title)}</h1>{headline(matrix)}"
        '<p class="lede">Would an ECS Exec or SSM session start, with KMS encryption when the '
        "cluster asks for it? Each row is a tool version, each column a scenario against a "
        "session-manager-plugin release. Click a cell for the reason, the fix and the evidence.</p>"
        f'<ul class="totals" aria-label="Totals">{chips}</ul>'
        # The run header, on a line of its own: the only line a rerun of one commit changes.
        f"\n{_meta(matrix)}\n</header>"
        f"<main>{_legend()}"
        '<div class="controls"><label><input type="checkbox" id="merge" checked> '
        "merge releases and versions with identical results "
        '<small>(listed together, marked "same results")</small></label>'
        '<label><input type="checkbox" id="failing"> only tools with failures</label></div>'
        f'<div class="scroll"><table class="matrix" id="matrix" data-rows="{len(matrix.rows)}" '
        f'data-columns="{len(matrix.columns)}">{_head(matrix)}{body}</table></div>'
        f"{findings(matrix)}</main>"
        '<dialog id="detail" aria-label="Cell details"><button type="button" class="close" '
        'aria-label="Close">✕</button><div id="detail-body"></div></dialog>'
        "<footer>Generated by smp-compat from matrix.json. Pass rates count passes among judged "
        "cells; cells without a verdict are never counted as passes.</footer>"
        f'<script type="application/json" id="matrix-data">{_script_json(data)}</script>'
        f"<script>{_asset('page.js')}</script></body></html>\n"
    )


def write(document: Mapping[str, Any], path: Path) -> Path:
    """Write ``index.html`` at ``path``."""
    path.write_text(render(document), encoding="utf-8")
    return path
