"""pytest fixtures over ``compat.integrations.session_check`` (entry point ``smp-compat``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from compat.fakeaws import FakeAWS
from compat.integrations.session_check import (
    Harness,
    PluginSession,
    running_fake_aws,
)
from fake_plugin.versions import DEFAULT_RELEASE, RELEASE_ENV

MARKER = (
    "smp_scenario(name='kms', *, kind='ecs-exec', release=None, reach='endpoint', "
    "profile_via='flag', region_via='flag'): the scenario smp_session seeds "
    "(names: compat.plan.scenario.CATALOGUE)"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smp-compat", "session-manager-plugin caller checks (smp-compat)")
    group.addoption(
        "--smp-release",
        default=os.environ.get(RELEASE_ENV) or DEFAULT_RELEASE,
        help=f"plugin release the fake emulates (default {DEFAULT_RELEASE})",
    )
    group.addoption(
        "--smp-real-plugin",
        default=os.environ.get("SMP_COMPAT_REAL_PLUGIN") or None,
        metavar="PATH",
        help="record and run this real session-manager-plugin instead of the fake "
        "(default: $SMP_COMPAT_REAL_PLUGIN)",
    )
    group.addoption("--smp-timeout", type=float, default=60.0, help="seconds per tool run")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


@pytest.fixture(scope="session")
def smp_fake_aws() -> Iterator[FakeAWS]:
    """moto, the proxy and the fake agent on 127.0.0.1, once per test session; the FakeAWS
    your suite already runs is reused (moto's state is process-wide) and left to you. It is a
    guest in your moto: it resets nothing, so your own resources stay as they are."""
    running = running_fake_aws()
    if running is not None:
        yield running
        return
    with FakeAWS() as fake:
        yield fake


@pytest.fixture
def smp_harness(smp_fake_aws: FakeAWS, tmp_path: Path, pytestconfig: pytest.Config) -> Harness:
    """Makes a seeded scenario with its sandbox: ``smp_harness.session("kms-profile")``."""
    real = pytestconfig.getoption("smp_real_plugin")
    return Harness(
        smp_fake_aws,
        tmp_path / "smp-compat",
        release=pytestconfig.getoption("smp_release"),
        real_plugin=Path(real).absolute() if real else None,
        timeout=pytestconfig.getoption("smp_timeout"),
    )


@pytest.fixture
def smp_session(smp_harness: Harness, request: pytest.FixtureRequest) -> PluginSession:
    """The scenario of the test's ``smp_scenario`` marker (``kms`` without one), seeded."""
    marker = request.node.get_closest_marker("smp_scenario")
    args = marker.args if marker else ()
    kwargs = dict(marker.kwargs) if marker else {}
    return smp_harness.session(*args, **kwargs)
