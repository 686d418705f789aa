"""Shared fixtures: a clean environment for running the fake plugin as a real program."""

from __future__ import annotations

import os
import sys

import pytest

from compat.fakeaws import FakeAWS
from tests.shared_stage import get_shared, stop_shared


@pytest.fixture
def plugin_env() -> dict[str, str]:
    """An environment like the spec's observations (``env -i``, docs/plugin.md §0), plus
    nothing of the user's AWS setup or smp-compat knobs."""
    return {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "LC_ALL": "C.UTF-8"}


@pytest.fixture(scope="session")
def python() -> str:
    """This installation's interpreter, by absolute path (what the shim runs)."""
    return sys.executable


@pytest.fixture
def fake_aws() -> FakeAWS:
    """The whole stage (moto extended, proxy, agent) on 127.0.0.1, shared by the session.

    moto's state is process-wide, so one FakeAWS serves every test that asks for it; seeded
    names are unique per call, so tests do not see each other's resources.
    """
    return get_shared()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stop_shared()
