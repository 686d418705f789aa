"""Fixtures: one real FakeAWS (moto over HTTP on 127.0.0.1) per test module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from compat.fakeaws import FakeAWS


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
