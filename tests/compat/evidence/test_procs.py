"""Live processes and process groups: a zombie has finished, whoever is to reap it."""

from __future__ import annotations

import subprocess
import sys
import time

from compat.evidence.procs import alive, group_members


def test_a_group_is_empty_once_its_members_are_zombies() -> None:
    # The shell leaves a background child and exits: the child is reparented, and whether
    # anyone reaps it depends on the machine's PID 1.
    script = "import subprocess, sys; subprocess.Popen(['sleep', '0.3']); print('x', flush=True)"
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    proc.wait()
    deadline = time.monotonic() + 10
    while group_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert group_members(proc.pid) == []


def test_alive_is_false_for_a_zombie_and_a_missing_pid() -> None:
    proc = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        assert alive(proc.pid) and group_members(proc.pid) == [proc.pid]
        proc.kill()
        deadline = time.monotonic() + 10
        while alive(proc.pid) and time.monotonic() < deadline:  # a zombie until we reap it
            time.sleep(0.02)
        assert not alive(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    assert not alive(proc.pid)
