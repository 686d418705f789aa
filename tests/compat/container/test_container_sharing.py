"""One container engine serves every kit run and test session of the machine.

A cleanup that removed every container carrying the kit's label killed the running containers
of other processes (exit 137, no output: the flake of test_container_awscli under load), and
podman answers the wait of a container removed under it with ``StatusCode 0``, which read as
the tool's success. Here another process really cleans up, and a container really is removed.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from compat.runner.container import ContainerResult, run_in_container
from compat.runner.container.engine import own_containers
from compat.runner.sandbox import Sandbox

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]

#: What another test session's leftover check does: its own containers, then the kit's label.
CLEANUP = """
from compat.runner.container.engine import LABEL, docker_client, own_containers
client = docker_client(timeout=30)
mine = own_containers(client)
for container in mine:
    container.remove(force=True)
labelled = client.containers.list(filters={"label": LABEL})
print(len(mine), len(labelled))
"""


def _in_thread(busybox: str, sandbox: Sandbox, script: str) -> tuple[threading.Thread, list[Any]]:
    results: list[ContainerResult] = []
    argv = ["sh", "-c", script]
    thread = threading.Thread(
        target=lambda: results.append(
            run_in_container(busybox, argv, sandbox.env, sandbox, timeout=60)
        )
    )
    thread.start()
    return thread, results


def _until_running(engine: Any) -> list[Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        running = own_containers(engine, include_stopped=False)
        if running:
            return running
        time.sleep(0.05)
    pytest.fail("the container never ran")


def test_another_process_cleaning_up_leaves_this_container_running(
    busybox: str, engine: Any, probe_sandbox: Sandbox
) -> None:
    go = probe_sandbox.root / "go"  # the sandbox is mounted at the same path: the container waits
    script = f"while [ ! -e {go} ]; do sleep 0.1; done; echo done"
    thread, results = _in_thread(busybox, probe_sandbox, script)
    _until_running(engine)
    try:
        other = subprocess.run(
            [sys.executable, "-c", CLEANUP],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        go.touch()
        thread.join()
    assert other.returncode == 0, other.stderr
    removed, labelled = map(int, other.stdout.split())
    assert labelled >= 1  # it saw our container by the kit's label...
    assert removed == 0  # ...and left it alone
    ran = results[0]
    assert (ran.returncode, ran.stdout, ran.why_ended) == (0, b"done\n", ""), ran.stderr


def test_a_container_removed_from_outside_is_said_not_a_success(
    busybox: str, engine: Any, probe_sandbox: Sandbox
) -> None:
    thread, results = _in_thread(busybox, probe_sandbox, "sleep 30")
    for container in _until_running(engine):
        container.remove(force=True)
    thread.join()
    ran = results[0]
    assert not ran.timed_out
    assert ran.returncode != 0  # podman's wait said StatusCode 0 here
    assert "removed while it ran, not by smp-compat" in ran.why_ended
    assert ran.why_ended in ran.stderr.decode()
