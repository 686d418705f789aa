"""The real ecspresso, built from the Go module proxy, through the fake plugin (issue 10).

ecspresso 1.5.9 hands the plugin 4 argv and is refused as an old CLI when the session is
KMS-encrypted; 1.6.0 (kayac/ecspresso#322) hands it 7 and gets an encrypted session. Both are
built once into the user's cache (``compat.install.gobuild``), so the matrix reuses them;
without Go or
a proxy that serves them the test is skipped with the builder's reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compat.adapter.load import load_adapters
from compat.fakeaws import FakeAWS
from compat.plan.cells import Filters, plan
from compat.runner import run_cells
from compat.runner.toolenv import Missing, resolve

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_ecspresso_1_5_9_is_refused_and_1_6_0_gets_an_encrypted_session(
    fake_aws: FakeAWS, tmp_path: Path
) -> None:
    adapters = load_adapters()
    ecspresso = next(a for a in adapters if a.name == "ecspresso")
    for variant_id in ("1.5.9-run", "1.6.0-run"):
        found = resolve(ecspresso.variant(variant_id))
        if isinstance(found, Missing):
            pytest.skip(f"ecspresso/{variant_id}: {found.detail}")
    cells = plan(
        adapters,
        filters=Filters(
            adapters=("ecspresso/1.5.9-run", "ecspresso/1.6.0-run"),
            scenarios=("kms",),
            releases=("1.2.677.0",),
        ),
    )
    results = {
        r.variant: r for r in run_cells(cells, fake=fake_aws, out_dir=tmp_path, jobs=2, timeout=60)
    }
    old, fixed = results["1.5.9-run"], results["1.6.0-run"]
    assert (old.outcome, old.reason) == ("fail", "legacy-argv"), old
    assert old.argv_shape is not None and old.argv_shape["argc"] == 4
    assert (fixed.outcome, fixed.reason) == ("pass", None), fixed
    assert fixed.argv_shape is not None and fixed.argv_shape["argc"] == 7
    assert fixed.argv_shape["target"] == "ecs:{cluster}_{task_id}_{runtime_id}"
    assert fixed.detail.startswith("encrypted session ")
