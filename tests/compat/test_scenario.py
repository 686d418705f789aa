"""The scenario catalogue and the cell planner."""

from __future__ import annotations

import pytest

from compat.adapter.load import load_adapters
from compat.errors import UserError
from compat.plan import scenario
from compat.plan.cells import Cell, Filters, plan
from compat.plan.errors import UnknownScenarioError, UnmatchedFilterError
from fake_plugin.releases import RELEASES


@pytest.fixture(scope="module")
def adapters():  # type: ignore[no-untyped-def]
    return load_adapters()


def test_catalogue_order_and_default_releases() -> None:
    assert list(scenario.CATALOGUE) == [
        "shell",
        "kms",
        "kms-profile",
        "kms-env-credentials",
        "kms-region",
        "port-forward",
        "reconnect",
    ]
    for s in scenario.CATALOGUE.values():
        # One release proves the resume path, the same code in every release.
        expected = ("1.2.677.0",) if s.name == "reconnect" else scenario.DEFAULT_RELEASES
        assert s.releases == expected
        assert set(s.releases) <= set(RELEASES)
    assert scenario.DEFAULT_RELEASES == ("1.2.234.0", "1.2.497.0", "1.2.677.0")


SCENARIO_FACTS = [
    pytest.param("shell", False, "default-profile", None, None, "shell", id="shell"),
    pytest.param("kms", True, "default-profile", None, None, "shell", id="kms"),
    pytest.param(
        "kms-profile", True, "named-profile", scenario.PROFILE_NAME, None, "shell", id="kms-profile"
    ),
    pytest.param("kms-env-credentials", True, "env", None, None, "shell", id="kms-env-credentials"),
    pytest.param(
        "kms-region", True, "default-profile", None, scenario.OTHER_REGION, "shell", id="kms-region"
    ),
    pytest.param(
        "port-forward", False, "default-profile", None, None, "port-forward", id="port-forward"
    ),
    pytest.param("reconnect", False, "default-profile", None, None, "shell", id="reconnect"),
]


def test_only_reconnect_drops_the_websocket_and_caps_the_timeout() -> None:
    dropping = [s.name for s in scenario.CATALOGUE.values() if s.seed.drop_websocket_once]
    assert dropping == ["reconnect"]
    capped = scenario.get("reconnect").timeout_s
    assert capped is not None and capped < 60


@pytest.mark.parametrize(
    ("name", "kms", "credentials", "profile", "region", "session"), SCENARIO_FACTS
)
def test_scenario_data(  # type: ignore[no-untyped-def]
    name, kms, credentials, profile, region, session
) -> None:
    s = scenario.get(name)
    assert s.seed.kms is kms
    assert s.sandbox.credentials == credentials
    assert s.user.profile == profile
    assert s.user.region == region
    assert s.user.session == session
    assert s.why


def test_kms_region_seeds_and_runs_in_the_chosen_region() -> None:
    s = scenario.get("kms-region")
    assert s.seed.region == s.region == scenario.OTHER_REGION != s.sandbox.default_region


def test_kms_profile_sandbox_names_the_profile_the_user_chooses() -> None:
    s = scenario.get("kms-profile")
    assert s.sandbox.profile_name == s.user.profile


def test_env_credentials_keep_the_region_in_the_environment() -> None:
    assert scenario.get("kms-env-credentials").sandbox.region_source == "env"


@pytest.mark.parametrize("name", ["kms-profiles", "", "KMS"], ids=["typo", "empty", "case"])
def test_unknown_scenario_lists_the_known_ones(name: str) -> None:
    with pytest.raises(UnknownScenarioError) as info:
        scenario.get(name)
    assert isinstance(info.value, UserError)
    assert str(info.value) == (
        f"unknown scenario {name!r}; known: shell, kms, kms-profile, kms-env-credentials, "
        "kms-region, port-forward, reconnect"
    )


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        pytest.param((), list(scenario.CATALOGUE), id="all"),
        pytest.param(
            ("kms*",), ["kms", "kms-profile", "kms-env-credentials", "kms-region"], id="glob"
        ),
        pytest.param(("port-forward", "shell"), ["shell", "port-forward"], id="catalogue-order"),
    ],
)
def test_select(patterns: tuple[str, ...], expected: list[str]) -> None:
    assert [s.name for s in scenario.select(patterns)] == expected


def test_select_pattern_matching_nothing_is_an_error() -> None:
    with pytest.raises(UnknownScenarioError, match="known: shell"):
        scenario.select(("kms", "nope*"))


# -- planner -----------------------------------------------------------------------------------


def test_full_plan_size_and_unique_stable_ids(adapters) -> None:  # type: ignore[no-untyped-def]
    cells = plan(adapters)
    variants = sum(len(a.variants) for a in adapters)
    assert len(cells) == variants * (6 * 3 + 1)
    ids = [c.id for c in cells]
    assert len(set(ids)) == len(ids)
    assert ids == [c.id for c in plan(adapters)]


def test_cell_id_shape(adapters) -> None:  # type: ignore[no-untyped-def]
    cells = plan(adapters, filters=Filters(("ecspresso/1.5.9",), ("kms",), ("1.2.677.0",)))
    assert [c.id for c in cells] == ["ecspresso/1.5.9/kms/1.2.677.0"]
    (cell,) = cells
    assert isinstance(cell, Cell)
    assert cell.not_applicable is None
    assert cell.launch is cell.variant.shell


@pytest.mark.parametrize(
    ("adapter_filter", "expected_tools"),
    [
        pytest.param(
            ("ecs*",), {"ecs-exec", "ecsgo", "ecsk", "ecspresso", "ecsta"}, id="tool-glob"
        ),
        pytest.param(("awscli-v1/ssm-*",), {"awscli-v1"}, id="variant-glob"),
        pytest.param(("copilot", "aws-gate"), {"copilot", "aws-gate"}, id="several"),
    ],
)
def test_adapter_filter(adapters, adapter_filter, expected_tools) -> None:  # type: ignore[no-untyped-def]
    cells = plan(adapters, filters=Filters(adapters=adapter_filter, scenarios=("shell",)))
    assert {c.adapter.name for c in cells} == expected_tools


def test_release_filter_chooses_among_emulated_releases(adapters) -> None:  # type: ignore[no-untyped-def]
    cells = plan(adapters, filters=Filters(("copilot/1.33.2",), ("kms",), ("1.2.53*",)))
    assert [c.release for c in cells] == ["1.2.536.0"]


@pytest.mark.parametrize(
    ("filters", "fragment"),
    [
        pytest.param(Filters(adapters=("nosuchtool",)), "known tools: ", id="unknown-adapter"),
        pytest.param(Filters(releases=("9.9.*",)), "known: 1.2.54.0", id="unknown-release"),
    ],
)
def test_filters_matching_nothing_are_user_errors(adapters, filters, fragment) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnmatchedFilterError, match=fragment):
        plan(adapters, filters=filters)


def test_unknown_scenario_filter(adapters) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownScenarioError):
        plan(adapters, filters=Filters(scenarios=("kms-profil",)))


@pytest.mark.parametrize(
    ("cell_id", "applicable"),
    [
        pytest.param(
            "ecspresso/1.6.0/port-forward/1.2.677.0", False, id="replay-without-port-forward"
        ),
        pytest.param("awscli-v1/ecs-exec/port-forward/1.2.677.0", True, id="awscli-port-forward"),
        pytest.param(
            "aws-gate/0.11.3/port-forward/1.2.677.0", False, id="aws-gate-no-port-forward"
        ),
        pytest.param("aws-gate/0.11.3/kms/1.2.677.0", True, id="ssm-tool-kms"),
    ],
)
def test_not_applicable_cells_are_kept_and_marked(adapters, cell_id, applicable) -> None:  # type: ignore[no-untyped-def]
    cells = {c.id: c for c in plan(adapters)}
    cell = cells[cell_id]
    assert (cell.not_applicable is None) is applicable
    if not applicable:
        assert cell.not_applicable == "unsupported-scenario"
        assert cell.launch is None
        assert "port-forward" in cell.not_applicable_detail


def test_explicit_scenarios_and_releases(adapters) -> None:  # type: ignore[no-untyped-def]
    cells = plan(
        adapters,
        scenarios=[scenario.get("shell")],
        releases=["1.2.54.0"],
        filters=Filters(adapters=("ecsta",)),
    )
    assert {c.release for c in cells} == {"1.2.54.0"}
    assert {c.scenario.name for c in cells} == {"shell"}
