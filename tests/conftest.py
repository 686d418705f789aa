"""Shared fixtures: a clean environment for running the fake plugin as a real program."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from compat.fakeaws import FakeAWS
from tests.parallel import exclusive, scheduler, session_dir, slow_first
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


#: The slice of the built-in matrix the whole-matrix tests share (sharding, merge): every tool,
#: two scenarios, one release.
MATRIX_FILTER = ("--scenario", "shell", "--scenario", "kms", "--release", "1.2.677.0")


@pytest.fixture(scope="session")
def unsharded_matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``smp-compat run`` over :data:`MATRIX_FILTER`, unsharded, once per test session: the
    tests that compare against the whole matrix share this run instead of each running it,
    also across xdist workers (the first one runs it, under a lock; the others read it).

    It installs and builds what the filter needs, so a later run with ``--no-install`` finds the
    same tools cached whatever other tests (or another worker) installed in between."""
    out = session_dir(tmp_path_factory) / "unsharded"
    with exclusive(out.with_suffix(".lock")):
        if not (out / "matrix.json").is_file():
            done = subprocess.run(
                [sys.executable, "-m", "compat", "run", "--jobs", "2", *MATRIX_FILTER,
                 "--out", str(out)],
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    document: dict[str, Any] = json.loads((out / "matrix.json").read_text(encoding="utf-8"))
    return document


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slow_first(config, items)


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook; xdist is optional
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    return scheduler(config, log)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stop_shared()
