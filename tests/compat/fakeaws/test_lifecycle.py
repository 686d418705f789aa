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
        stage.client("ecs").create_cluster(clusterName="made-before")
        with pytest.raises(FakeAWSError, match="already started"):
            stage.start()
    stage.stop()  # idempotent
    with pytest.raises(FakeAWSError, match="already started"):
        stage.start()
    left = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert left == []
    # The process is free for the next stage, which wipes nothing: moto's state is the
    # process's (a suite's own resources live there too), not the stage's.
    with FakeAWS(proxy=False, agent=False, verify=False) as again:
        arns = again.client("ecs").list_clusters()["clusterArns"]
        assert any(arn.endswith(":cluster/made-before") for arn in arns), arns
