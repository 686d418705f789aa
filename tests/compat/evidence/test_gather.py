"""The collector waits for what a live plugin still owes, and no longer than its one deadline."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import pytest

from compat.evidence import collect, unfinished
from compat.fakeaws import Credentials, FakeAWS
from compat.fakeaws.proxy import ProxyRecord

pytestmark = pytest.mark.integration


def _append(path: Path, line: dict[str, object]) -> None:
    with path.open("a") as fh:
        fh.write(json.dumps(line) + "\n")


def test_a_start_owed_by_a_live_plugin_is_waited_for(fake_aws: FakeAWS, tmp_path: Path) -> None:
    record = tmp_path / "rec.jsonl"
    plugin = subprocess.Popen(["sleep", "30"])
    start = {"pid": plugin.pid, "started_at": "t", "argv": ["p", "r", "x"], "event": "start"}
    _append(record, start)

    def plugin_ends() -> None:
        time.sleep(0.5)
        _append(record, {**start, "event": "end", "exit_code": None, "signal": "SIGTERM"})
        plugin.kill()

    ender = threading.Thread(target=plugin_ends)
    ender.start()
    try:
        evidence = collect(fake_aws, record, Credentials.new().access_key_id, tool_exit=-15)
    finally:
        ender.join()
        plugin.wait()
    [entry] = evidence.records
    assert not unfinished(entry) and entry["signal"] == "SIGTERM"


def test_a_start_of_a_dead_plugin_is_not_waited_for(fake_aws: FakeAWS, tmp_path: Path) -> None:
    record = tmp_path / "rec.jsonl"
    gone = subprocess.Popen(["true"])
    gone.wait()
    _append(record, {"pid": gone.pid, "started_at": "t", "argv": ["p", "r", "x"], "event": "start"})
    started = time.monotonic()
    evidence = collect(fake_aws, record, Credentials.new().access_key_id, tool_exit=-9, killed=True)
    assert time.monotonic() - started < 2  # no session for the key: nothing else to wait for
    [entry] = evidence.records
    assert unfinished(entry) and evidence.records_incomplete


def test_only_endpoint_ignored_refusals_judge_the_cell(fake_aws: FakeAWS, tmp_path: Path) -> None:
    """The cell's proxy port names every refusal of its clients: a CA a client does not trust
    or a non-AWS host it tried is not ``endpoint-ignored``, so it is not in ``refused_hosts``."""
    key = Credentials.new().access_key_id
    for host, reason in (
        ("kms.us-east-1.amazonaws.com", "tls-untrusted"),
        ("example.com", "non-aws-host"),
        ("ecs.us-east-1.amazonaws.com", "endpoint-ignored"),
    ):
        fake_aws.proxy.record(
            ProxyRecord(time.time(), "CONNECT", host, None, None, key, False, reason)  # type: ignore[arg-type]
        )
    evidence = collect(fake_aws, tmp_path / "none.jsonl", key, tool_exit=0)
    assert list(evidence.refused_hosts) == ["ecs.us-east-1.amazonaws.com"]
