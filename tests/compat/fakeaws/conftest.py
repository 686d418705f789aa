"""Fixtures: one real FakeAWS (moto over HTTP on 127.0.0.1) per test module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from compat.fakeaws import FakeAWS
from tests.shared_stage import stop_shared


@pytest.fixture(scope="module", autouse=True)
def _own_stage() -> None:
    """These tests build their own FakeAWS: stop the shared one first (one per process)."""
    stop_shared()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAWS]:
    """moto and the proxy, no agent: these tests are about the control plane."""
    with FakeAWS(agent=False) as stage:
        yield stage


@pytest.fixture(scope="module")
def ecs(fake: FakeAWS) -> Any:
    return fake.client("ecs")


@pytest.fixture(scope="module")
def ssm(fake: FakeAWS) -> Any:
    return fake.client("ssm")
