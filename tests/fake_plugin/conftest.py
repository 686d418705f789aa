"""Fixtures for the fake plugin's tests: one shim per emulated release."""

from __future__ import annotations

from pathlib import Path

import pytest

from compat.shim import write_shim
from fake_plugin.versions import KNOWN_RELEASES


@pytest.fixture(scope="session")
def shims(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``release -> path`` of a ``session-manager-plugin`` shim for that release."""
    root = tmp_path_factory.mktemp("shims")
    return {r: write_shim(root / r, release=r) for r in KNOWN_RELEASES}
