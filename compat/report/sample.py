"""Synthetic but realistic matrix.json documents, for tests, benchmarks and page previews.

The cells follow the failure patterns the research found in real tools (legacy argv refused by
KMS, env-var mode on old plugins, warnings on the endpoint), with the real reason codes and
remedies from :mod:`compat.verdict.reasons`, so a rendered sample looks like a real run.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from compat.plan.scenario import CATALOGUE
from compat.verdict import reasons
from fake_plugin.versions import MATRIX_RELEASES, env_response_mode, version_key

__all__ = ["RELEASES", "SCENARIOS", "sample_document"]

#: The matrix releases of the release registry.
RELEASES: tuple[str, ...] = MATRIX_RELEASES
#: The catalogue's scenarios that run at every matrix release (a full grid), in column order.
SCENARIOS: tuple[str, ...] = tuple(
    name for name, s in CATALOGUE.items() if set(RELEASES) <= set(s.releases)
)
_TOOLS = (
    "ecspresso",
    "ecsk",
    "ecsta",
    "copilot",
    "aws-gate",
    "awscli-v1",
    "awscli-v2",
    "aws-ssm-juggle",
)
#: Row behaviours: which reason each KMS cell fails with (None: passes).
_BEHAVIOURS = ("good", "good", "legacy-argv", "no-target", "env-mode", "warn", "skip", "profile")


def _verdict(behaviour: str, scenario: str, release: str) -> tuple[str, str | None, list[str]]:
    kms = scenario.startswith("kms")
    if behaviour == "skip":
        return "skipped", "requirement-missing", []
    if scenario == "port-forward" and behaviour in ("legacy-argv", "no-target"):
        return "n/a", "unsupported-scenario", []
    if behaviour in ("legacy-argv", "no-target") and kms:
        return "fail", behaviour, []
    if behaviour == "env-mode" and not env_response_mode(release):
        return "fail", "env-mode-unsupported", []
    if behaviour == "profile" and scenario == "kms-env-credentials":
        return "fail", "credentials-not-forwarded", []
    if behaviour == "warn":
        return "pass", None, ["endpoint-not-ssm"]
    return "pass", None, []


def _scenario(name: str) -> dict[str, str]:
    """The matrix.json entry of ``name``: the catalogue's words, or made up for a made-up name."""
    known = CATALOGUE.get(name)
    if known is None:
        return {"name": name, "title": name, "why": f"What users of {name} sessions do."}
    return {"name": name, "title": known.title, "why": known.why}


def sample_document(
    rows: int = 12,
    scenarios: Sequence[str] | None = None,
    releases: Sequence[str] = RELEASES,
    seed: int = 0,
    tools: int | None = None,
) -> dict[str, Any]:
    """A valid matrix.json with ``rows`` tool variants x ``scenarios`` x ``releases`` cells.

    ``tools``: spread the rows over that many tools, many versions each (a big matrix has
    tens of tools, not thousands); default: a new tool for every row past the first eight.

    Scenario names beyond the catalogue (for big benchmark matrices) are made up as
    ``<catalogue name>-<n>`` and behave like the catalogue scenario they are named after.
    """
    rng = random.Random(seed)
    names = list(scenarios) if scenarios is not None else list(SCENARIOS)
    row_docs: list[dict[str, Any]] = []
    cells: list[dict[str, Any]] = []
    for index in range(rows):
        number = index if tools is None else index % tools
        tool = _TOOLS[number % len(_TOOLS)] + (
            "" if number < len(_TOOLS) else f"-{number // len(_TOOLS)}"
        )
        minor = rng.randrange(10) if tools is None else index // tools
        version = f"{1 + index % 3}.{minor}.{rng.randrange(20)}"
        mode = "run" if index % 4 == 3 else "replay"
        behaviour = _BEHAVIOURS[index % len(_BEHAVIOURS)]
        row_id = f"{tool}/{version}"
        row_docs.append(
            {
                "id": row_id, "tool": tool, "variant": version, "version": version, "mode": mode,
                "kind": "ecs-exec", "homepage": f"https://github.com/example/{tool}",
                "source": f"example/{tool}@v{version} internal/exec.go#L40-L61",
                "source_url": f"https://github.com/example/{tool}/blob/v{version}/internal/exec.go#L40",
                "requires": None, "notes": "", "user_adapter": False, "adapter_file": None,
            }
        )  # fmt: skip
        for scenario in names:
            base = scenario.rsplit("-", 1)[0] if scenario not in CATALOGUE else scenario
            for release in releases:
                outcome, code, warnings = _verdict(behaviour, base, release)
                if index == 1 and scenario == names[-1] and release == releases[-1]:
                    outcome, code, warnings = "error", "inconclusive", []
                reason = reasons.get(code) if code else None
                cell_id = f"{row_id}/{scenario}/{release}"
                evidence_dir = f"evidence/{cell_id.replace('/', '__')}"
                failed = outcome in ("fail", "error")
                cells.append(
                    {
                        "row": row_id, "column": f"{scenario}/{release}", "id": cell_id,
                        "tool": tool, "variant": version, "scenario": scenario, "release": release,
                        "outcome": outcome, "reason": code,
                        "explanation": reason.explanation if reason else "",
                        "remedy": reason.remedy if reason else "", "warnings": warnings,
                        "detail": "argv has 4 entries; argv[5] <absent>" if failed else "",
                        "evidence": {
                            "plugin_record": f"{evidence_dir}/plugin-record.jsonl",
                            "transcript": f"{evidence_dir}/agent.jsonl",
                        } if failed or warnings else {},
                        "duration_s": round(rng.uniform(0.3, 2.0), 3),
                        "tool_duration_s": round(rng.uniform(0.1, 0.3), 3),
                    }
                )  # fmt: skip
    summary = dict.fromkeys(("pass", "fail", "error", "skipped", "n/a"), 0)
    for cell in cells:
        summary[cell["outcome"]] += 1
    return {
        "schema_version": 1,
        "kind": "smp-compat-matrix",
        "run": {
            "kit_version": "0.1.0",
            "started_at": "2025-06-01T12:00:00Z",
            "finished_at": "2025-06-01T12:01:40Z",
            "duration_s": 100.0,
            "host": {"python": "3.11.2", "implementation": "CPython", "platform": "Linux-x86_64"},
            "plugin": {
                "kind": "fake",
                "real_binary": None,
                "releases": sorted(set(releases), key=version_key),
            },
            "moto_version": "5.2.5",
            "jobs": 2,
            "timeout_s": 60.0,
            "filters": {},
            "cells_per_second": round(len(cells) / 100.0, 3),
            "median_overhead_s": 0.4,
        },
        "summary": summary,
        "scenarios": [_scenario(n) for n in names],
        "rows": row_docs,
        "columns": [
            {"id": f"{s}/{r}", "scenario": s, "release": r} for s in names for r in releases
        ],
        "cells": cells,
    }
