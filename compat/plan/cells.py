"""The cell planner: (tool variant) x (scenario) x (plugin release), filtered, with stable ids.

Cells that cannot apply (a port-forward column for a tool without port forwarding) are kept
and marked, so the matrix shows ``n/a`` instead of a hole.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from compat.adapter.model import Adapter, Launch, Variant
from compat.plan.errors import UnmatchedFilterError
from compat.plan.scenario import Scenario, select
from fake_plugin.releases import RELEASES, version_key

__all__ = ["Cell", "Filters", "plan"]


@dataclass(frozen=True)
class Filters:
    """The command line's ``--adapter``, ``--scenario`` and ``--release`` values.

    Each is a list of names or shell globs; a cell is kept when it matches any of them. An
    adapter pattern with a ``/`` matches ``tool/variant`` (``ecspresso/1.*``), without one the
    tool name (``ecs*``). Release patterns choose among every release the fake plugin emulates,
    so ``--release 1.2.536.0`` adds a release the default set does not run.
    """

    adapters: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = ()
    releases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cell:
    """One thing to run: a tool variant in a scenario against a plugin release."""

    adapter: Adapter
    variant: Variant
    scenario: Scenario
    release: str
    #: Reason code when the cell cannot apply (its outcome is ``n/a``), else ``None``.
    not_applicable: str | None = None
    #: One line saying why it cannot apply.
    not_applicable_detail: str = ""

    @property
    def id(self) -> str:
        """``tool/variant/scenario/release``: stable across runs, safe as a path."""
        return f"{self.adapter.name}/{self.variant.id}/{self.scenario.name}/{self.release}"

    @property
    def launch(self) -> Launch | None:
        """The launch the scenario needs (shell or port-forward), if the variant has it."""
        return self.variant.launches.get(self.scenario.user.session)


def _matches(patterns: Sequence[str], *names: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns for name in names)


def _select_variants(
    adapters: Sequence[Adapter], patterns: Sequence[str]
) -> list[tuple[Adapter, Variant]]:
    pairs = [(a, v) for a in adapters for v in a.variants]
    if not patterns:
        return pairs
    for pattern in patterns:
        target = (lambda a, v: f"{a.name}/{v.id}") if "/" in pattern else (lambda a, v: a.name)
        if not any(fnmatch.fnmatchcase(target(a, v), pattern) for a, v in pairs):
            known = ", ".join(a.name for a in adapters)
            raise UnmatchedFilterError(
                f"--adapter {pattern!r} matches no tool or tool/variant; known tools: {known}"
            )
    return [
        (a, v)
        for a, v in pairs
        if any(fnmatch.fnmatchcase(f"{a.name}/{v.id}" if "/" in p else a.name, p) for p in patterns)
    ]


def _select_releases(patterns: Sequence[str]) -> tuple[str, ...] | None:
    if not patterns:
        return None
    for pattern in patterns:
        if not fnmatch.filter(RELEASES, pattern):
            raise UnmatchedFilterError(
                f"--release {pattern!r} matches no emulated plugin release; known: "
                + ", ".join(RELEASES)
            )
    chosen = [r for r in RELEASES if _matches(patterns, r)]
    return tuple(sorted(chosen, key=version_key))


def _not_applicable(variant: Variant, scenario: Scenario) -> tuple[str | None, str]:
    if variant.kind not in scenario.kinds:
        kinds = " or ".join(sorted(scenario.kinds))
        return "unsupported-scenario", f"{scenario.name} applies to {kinds} tools"
    if not variant.supports(scenario.user.session):
        return "unsupported-scenario", f"this variant has no {scenario.user.session} launch"
    return None, ""


def plan(
    adapters: Iterable[Adapter],
    scenarios: Sequence[Scenario] | None = None,
    releases: Sequence[str] | None = None,
    filters: Filters = Filters(),
) -> list[Cell]:
    """Every cell to run, in matrix order: tool, variant, scenario, release (oldest first).

    ``scenarios`` defaults to the catalogue and ``releases`` to each scenario's own; the
    filters then narrow (or, for releases, choose) them. Raises :class:`UnmatchedFilterError` or
    :class:`~compat.plan.errors.UnknownScenarioError` for patterns that match nothing.
    """
    adapters = list(adapters)
    pairs = _select_variants(adapters, filters.adapters)
    if scenarios is None:
        scenarios = select(filters.scenarios)
    elif filters.scenarios:
        chosen = {s.name for s in select(filters.scenarios)}
        scenarios = [s for s in scenarios if s.name in chosen]
    chosen_releases = _select_releases(filters.releases)
    cells: list[Cell] = []
    for adapter, variant in pairs:
        for scenario in scenarios:
            code, detail = _not_applicable(variant, scenario)
            for release in chosen_releases or releases or scenario.releases:
                cells.append(Cell(adapter, variant, scenario, release, code, detail))
    return cells
