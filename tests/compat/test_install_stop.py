"""An interrupted run ends its install steps too (``terminate_all``), and remembers no refusal.

The Go build here is a stand-in ``go`` that answers ``mod init`` and then hangs in ``get``, as a
cold build of a large module does: a stop must end it at once, jailed or not, and the next run
must build again instead of reading a remembered failure.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from compat.install import gobuild
from compat.isolation import jail
from compat.isolation.errors import InstallStopped
from compat.isolation.jail import run_jailed
from compat.runner.process import allow_runs, terminate_all

#: A ``go`` that is slow where a real one downloads and compiles: it says it started, then
#: sleeps for a length no other process on the machine asks for (found again in /proc).
SLOW_GO = """#!/bin/sh
case "$1" in
  mod) exit 0 ;;
  get) : > "{started}"; exec sleep {seconds} ;;
esac
exit 1
"""


def _sleeping(seconds: str) -> bool:
    """A process runs ``sleep <seconds>``."""
    wanted = f"sleep\0{seconds}\0".encode()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmdline.read_bytes().endswith(wanted):
                return True
        except OSError:
            continue
    return False


def _stop_while(call: threading.Thread, started: Path) -> float:
    """Start ``call``, stop the run once the step is under way; the seconds the stop took."""
    call.start()
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.exists(), "the install step never started"
    stopped = time.monotonic()
    terminate_all()
    call.join(30)
    assert not call.is_alive()
    return time.monotonic() - stopped


@pytest.mark.parametrize("jailed", [True, False], ids=["jailed", "unjailed"])
def test_a_stop_ends_a_go_build_and_remembers_no_refusal(
    jailed: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if jailed and jail.jail_binary() is None:
        pytest.skip("no C compiler: the jail cannot be built here")
    if not jailed:
        monkeypatch.setattr(jail, "jail_binary", lambda: None)  # as without a C compiler
    started = tmp_path / "go-get-started"
    seconds = f"120.{os.getpid()}{threading.get_ident() % 1000}"
    fake_go = tmp_path / "bin" / "go"
    fake_go.parent.mkdir()
    fake_go.write_text(SLOW_GO.format(started=started, seconds=seconds))
    fake_go.chmod(0o755)
    monkeypatch.setattr(gobuild, "find_go", lambda: str(fake_go))
    root = tmp_path / "go-cache"
    raised: list[BaseException] = []

    def build() -> None:
        try:
            gobuild.build("example.test/slow/cmd/slow@v1.0.0", "slow", root)
        except BaseException as exc:
            raised.append(exc)

    try:
        took = _stop_while(threading.Thread(target=build, daemon=True), started)
    finally:
        allow_runs()
    assert took < 15  # the jail's grace (5 s) at most, never the build's 1800 s timeout
    assert [type(e) for e in raised] == [InstallStopped]
    assert not list(root.rglob(".smp-compat-failed"))
    assert not _sleeping(seconds)  # the hung step is gone


def test_no_step_starts_while_the_run_stops(tmp_path: Path) -> None:
    terminate_all()
    try:
        with pytest.raises(InstallStopped):
            run_jailed(["true"], env={"PATH": os.environ["PATH"]}, timeout=10, cwd=tmp_path)
    finally:
        allow_runs()
    assert run_jailed(["true"], env={"PATH": os.environ["PATH"]}, timeout=10).returncode == 0
