"""FakeAWS start/stop rules (pytest-httpserver's), without a module fixture."""

from __future__ import annotations

import threading

import pytest

from compat.fakeaws import FakeAWS, FakeAWSError

pytestmark = pytest.mark.integration


def test_start_stop_rules_and_threads_joined() -> None:
    before = set(threading.enumerate())
    stage = FakeAWS(agent=False, verify=False)
    with pytest.raises(FakeAWSError, match="call start"):
        _ = stage.endpoint_url
    stage.stop()  # stopping a stage that never started is harmless
    with stage:
        assert stage.endpoint_url.startswith("http://127.0.0.1:")
        with pytest.raises(FakeAWSError, match="already started"):
            stage.start()
    stage.stop()  # idempotent
    with pytest.raises(FakeAWSError, match="already started"):
        stage.start()
    left = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert left == []
    # The process is free for the next stage.
    with FakeAWS(proxy=False, agent=False, verify=False) as again:
        assert again.client("ecs").list_clusters()["clusterArns"] == []
