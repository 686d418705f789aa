"""The native launcher for tests: one warm plugin server per test session, or a skip."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from compat.launcher import PluginServer, build_launcher
from compat.launcher.errors import LauncherBuildError

#: How a test starts the fake plugin: the Python shim, or the native launcher + server.
LAUNCHERS = ("shim", "native")

RELEASE = "1.2.677.0"
#: A valid legacy start whose stream URL refuses connections: it prints the Starting line, then
#: keeps retrying (session.go), so the plugin is still running when a test signals or kills it.
HANGING_START = [
    '{"SessionId":"sess-9","StreamUrl":"ws://127.0.0.1:9/x","TokenValue":"tok"}',
    "us-east-1",
    "StartSession",
]


@pytest.fixture(scope="session")
def plugin_server() -> Iterator[PluginServer]:
    """A running plugin server (skips where no C compiler can build the launcher)."""
    try:
        binary = build_launcher()
    except LauncherBuildError as exc:
        pytest.skip(f"native launcher unavailable: {exc}")
    with PluginServer(binary) as server:
        yield server
