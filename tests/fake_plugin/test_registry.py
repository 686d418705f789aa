"""The release registry (fake_plugin/versions.py) is the one place release names are kept."""

from __future__ import annotations

import re
from pathlib import Path

from compat.plan import scenario
from compat.report import sample
from fake_plugin import releases, versions

ROOT = Path(__file__).resolve().parents[2]
#: A release name written out in code (a citation in prose or a URL is not a rule).
_RELEASE_LITERAL = re.compile(r"""["']1\.2\.\d+\.0["']""")


def test_registry_is_consistent() -> None:
    known = versions.KNOWN_RELEASES
    assert list(known) == sorted(known, key=versions.version_key)
    assert versions.DEFAULT_RELEASE in known
    assert set(versions.MATRIX_RELEASES) <= set(known)
    assert list(versions.MATRIX_RELEASES) == sorted(
        versions.MATRIX_RELEASES, key=versions.version_key
    )
    assert known[-1] == versions.NEWEST_RELEASE
    assert set(releases.RELEASES) == set(known)


def test_one_sort_key_puts_real_last() -> None:
    names = ["real", "1.2.677.0", "1.2.54.0", "1.2.205.0"]
    assert sorted(names, key=versions.version_key) == ["1.2.54.0", "1.2.205.0", "1.2.677.0", "real"]


def test_readers_take_the_registry() -> None:
    assert scenario.DEFAULT_RELEASES == versions.MATRIX_RELEASES
    assert scenario.get("reconnect").releases == (versions.NEWEST_RELEASE,)
    assert sample.RELEASES == versions.MATRIX_RELEASES


def test_sample_scenarios_come_from_the_catalogue() -> None:
    document = sample.sample_document(rows=1)
    for entry in document["scenarios"]:
        known = scenario.get(entry["name"])
        assert (entry["title"], entry["why"]) == (known.title, known.why)
    assert [e["name"] for e in document["scenarios"]] == list(sample.SCENARIOS)


def test_no_release_name_is_written_out_in_code_elsewhere() -> None:
    """Adding a release is a registry edit: no other module of the kit names one."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("compat", "fake_plugin")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name != "versions.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _RELEASE_LITERAL.search(line)
    ]
    assert offenders == []
