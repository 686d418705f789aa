"""A PyPI tool's venv (compat/install/pypi_venv.py): made once, reused, never half-done.

Real pip in a real venv, offline (``PIP_NO_INDEX``): the distribution is a local directory
(``tests/local_dist.py``), so no index and no build tool is needed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compat.install import pypi_venv
from compat.install.errors import VenvError
from tests.local_dist import local_distribution

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def hello(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A local distribution with the console script ``hello`` (pip needs no index)."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    return str(local_distribution(tmp_path / "hello-src", "hello"))


def test_installed_once_then_reused_without_pip(
    hello: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "venvs"
    found = pypi_venv.install(hello, "hello", root)
    assert found == pypi_venv.venv_of(hello, root) / "bin" / "hello" and found.is_file()
    assert capsys.readouterr().err.count(f"installed {hello}") == 1
    # Reused as it is, even with installs disabled: no pip, no progress line.
    assert pypi_venv.install(hello, "hello", root, allowed=False) == found
    assert capsys.readouterr().err == ""


def test_a_half_done_venv_is_not_reused(hello: str, tmp_path: Path) -> None:
    """A venv without its marker (a run killed during pip) is missing, then made again."""
    root = tmp_path / "venvs"
    venv = pypi_venv.venv_of(hello, root)
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "hello").write_text("#!/bin/sh\necho stale-copy\n", encoding="utf-8")
    with pytest.raises(VenvError, match=r"is not installed \(installs disabled\)$"):
        pypi_venv.install(hello, "hello", root, allowed=False)
    found = pypi_venv.install(hello, "hello", root)
    assert "stale-copy" not in found.read_text(encoding="utf-8")


def test_pip_refusals_and_missing_programs_are_one_line_and_asked_again(
    hello: str, tmp_path: Path
) -> None:
    root = tmp_path / "venvs"
    with pytest.raises(VenvError) as refused:
        pypi_venv.install("smp-compat-absent-tool==1.0", "absent", root)
    message = str(refused.value)
    assert message.startswith("pip install smp-compat-absent-tool==1.0 failed (")
    assert "\n" not in message and "smp-compat-absent-tool" in message.rsplit(": ", 1)[-1]
    # Not remembered (pip's answer may change): the next call runs pip again.
    with pytest.raises(VenvError, match="failed"):
        pypi_venv.install("smp-compat-absent-tool==1.0", "absent", root)
    with pytest.raises(VenvError, match=r"installed no program nothere$"):
        pypi_venv.install(hello, "nothere", root)
