"""Fixtures for the fake plugin's tests: one plugin per emulated release, per launcher."""

from __future__ import annotations

from pathlib import Path

import pytest

from compat.launcher import write_launcher
from compat.launcher.shim import write_shim
from fake_plugin.versions import KNOWN_RELEASES
from tests.launcher_stage import LAUNCHERS, plugin_server

__all__ = ["plugin_server"]


@pytest.fixture(scope="session", params=LAUNCHERS)
def shims(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """``release -> path`` of a ``session-manager-plugin`` for that release: the Python shim,
    or the native launcher served by the session's plugin server (same behaviour, byte for byte).
    """
    root = tmp_path_factory.mktemp(f"plugins-{request.param}")
    if request.param == "shim":
        return {r: write_shim(root / r, release=r) for r in KNOWN_RELEASES}
    server = request.getfixturevalue("plugin_server")
    assert server.launcher is not None
    return {r: write_launcher(root / r, server.launcher, release=r) for r in KNOWN_RELEASES}
