"""The Go and npm direct callers (issue 11): each adapter runs for real in one scenario.

Today the Go module proxy refuses every one of them but e1s and packer-plugin-amazon, which
cannot be driven headless, and the npm registry does not serve basti (docs/callers.md §2, "The
Go and npm direct callers in the matrix"): those tests skip with the installer's reason, and
the `unavailable` variants must come out `skipped` with the adapter's own sentence, never as a
failure of the tool. When a registry serves one, its test runs it and checks the argv count its
source builds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compat.adapter.load import load_adapters
from compat.adapter.model import Variant
from compat.fakeaws import FakeAWS
from compat.plan.cells import Filters, plan
from compat.runner import run_cells
from compat.runner.result import CellResult
from compat.runner.toolenv import Missing, resolve

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: tool/variant -> (scenario, argc of the plugin's argv as the source builds it).
INSTALLED = {
    "ecsgo/0.6.1": ("kms", 6),  # internal/command.go:66
    "sigil/0.8.0": ("kms", 7),  # pkg/aws/aws.go:304
    "sshm/1.2.2": ("kms", 6),  # main.go:296
    "aws-runas/3.8.0": ("kms", 7),  # cli/ssm_cmd.go:121
    "basti/1.8.0": ("port-forward", 7),  # start-session-manager-plugin-process.ts
}
UNAVAILABLE = {
    "ecsgo/0.2.0": "shell",
    "ecsgo/0.3.0": "shell",
    "gossm/1.5.0": "shell",
    "e1s/1.0.53": "port-forward",
    "packer-plugin-amazon/1.8.2": "port-forward",
    "pg-tunnel/latest": "port-forward",
}


def _variant(cell_row: str) -> Variant:
    tool, variant_id = cell_row.split("/")
    adapter = next(a for a in load_adapters() if a.name == tool)
    return adapter.variant(variant_id)


def _run(row: str, scenario: str, fake: FakeAWS, out: Path) -> list[CellResult]:
    cells = plan(
        load_adapters(),
        filters=Filters(adapters=(row,), scenarios=(scenario,), releases=("1.2.677.0",)),
    )
    assert len(cells) == 1, cells
    return run_cells(cells, fake=fake, out_dir=out, jobs=1, timeout=90)


@pytest.mark.parametrize("row", sorted(INSTALLED))
def test_an_installable_caller_runs_with_the_argv_its_source_builds(
    row: str, fake_aws: FakeAWS, tmp_path: Path
) -> None:
    found = resolve(_variant(row))
    if isinstance(found, Missing):
        pytest.skip(f"{row}: {found.detail}")
    scenario, argc = INSTALLED[row]
    [result] = _run(row, scenario, fake_aws, tmp_path)
    assert result.outcome in ("pass", "fail"), result
    assert result.argv_shape is not None, result
    assert result.argv_shape["argc"] == argc, result


@pytest.mark.parametrize("row", sorted(UNAVAILABLE))
def test_a_caller_the_kit_cannot_drive_is_skipped_with_the_adapters_reason(
    row: str, fake_aws: FakeAWS, tmp_path: Path
) -> None:
    variant = _variant(row)
    assert variant.requires is not None and variant.requires.unavailable
    [result] = _run(row, UNAVAILABLE[row], fake_aws, tmp_path)
    assert (result.outcome, result.reason) == ("skipped", "requirement-missing")
    assert result.detail == variant.requires.unavailable
