"""moto's proxy package is imported without leaving its logging setup behind."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

_ROOT = Path(__file__).resolve().parents[3]
# A fresh interpreter: this test session may have imported moto.moto_proxy already.
_PROGRAM = """
import logging, sys, tempfile
from pathlib import Path
from compat.fakeaws.proxy import AWSProxy, ca_bundle_path
ca_bundle_path()
proxy = AWSProxy(Path(tempfile.mkdtemp()))
proxy.start()
proxy.stop()
print(len(logging.getLogger().handlers), logging.getLogger("MOTO_PROXY").level)
"""


def test_starting_the_proxy_adds_no_stdout_handler_to_the_root_logger() -> None:
    """moto.moto_proxy runs ``logging.basicConfig(stream=sys.stdout)`` on import: left in
    place, every library's warning would print on the kit's stdout."""
    if shutil.which("openssl") is None:
        pytest.skip("proxy mode needs the openssl binary")
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM],
        cwd=_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "30"]  # no handler; MOTO_PROXY at WARNING
