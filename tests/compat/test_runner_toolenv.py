"""Finding a run variant's program: this Python's distributions, PATH, path_env, versions."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from compat.adapter.load import load_adapters
from compat.cache import cache_dir
from compat.runner.toolenv import Missing, Resolved, resolve


def variant(tool: str, variant_id: str):  # type: ignore[no-untyped-def]
    return next(a for a in load_adapters() if a.name == tool).variant(variant_id)


def test_a_distribution_installed_here_is_reused() -> None:
    pytest.importorskip("awscli")
    found = resolve(variant("awscli-v1", "ecs-exec"), install=False)
    assert isinstance(found, Resolved)
    assert found.program == Path(sys.executable).parent / "aws"


def test_no_install_leaves_a_pypi_tool_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    found = resolve(variant("aws-gate", "0.11.3"), install=False)
    assert isinstance(found, Missing) and found.code == "requirement-missing"
    assert cache_dir() == tmp_path / "smp-compat"


def test_path_env_wins_and_a_wrong_version_is_a_mismatch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_v1 = tmp_path / "aws"
    fake_v1.write_text("#!/bin/sh\necho aws-cli/1.45.0 Python/3.11\n")
    fake_v1.chmod(0o755)
    monkeypatch.setenv("SMP_COMPAT_AWSCLI_V2", str(fake_v1))
    found = resolve(variant("awscli-v2", "ecs-exec"))
    assert isinstance(found, Missing) and found.code == "version-mismatch"
    assert "aws-cli/1.45.0" in found.detail
    fake_v1.write_text("#!/bin/sh\necho aws-cli/2.9.19 Python/3.11\n")
    assert resolve(variant("awscli-v2", "ecs-exec")) == Resolved(
        fake_v1, (tmp_path,), "$SMP_COMPAT_AWSCLI_V2"
    )


def test_a_binary_not_on_path_is_missing_with_the_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMP_COMPAT_ECSK", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    found = resolve(variant("ecsk", "installed"))
    assert isinstance(found, Missing)
    assert "ecsk not found; brew install" in found.detail


def test_the_version_answer_of_a_program_the_kit_installed_is_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow ``--version`` (a frozen AWS CLI v2 on a busy machine) is asked once per build."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    asked = tmp_path / "asked"
    inside = cache_dir() / "bundles" / "aws"
    inside.parent.mkdir(parents=True)
    script = f"#!/bin/sh\necho x >> {asked}\necho aws-cli/2.9.19 Python/3.11\n"
    inside.write_text(script)
    inside.chmod(0o755)
    monkeypatch.setenv("SMP_COMPAT_AWSCLI_V2", str(inside))
    for _ in range(3):
        assert isinstance(resolve(variant("awscli-v2", "ecs-exec")), Resolved)
    assert asked.read_text().count("x") == 1
    # The kit replaced the program: asked again, and the new answer counts.
    inside.write_text(script.replace("2.9.19", "1.45.0"))
    found = resolve(variant("awscli-v2", "ecs-exec"))
    assert isinstance(found, Missing) and "aws-cli/1.45.0" in found.detail
    assert asked.read_text().count("x") == 2


def test_a_program_outside_the_kits_cache_is_asked_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    asked = tmp_path / "asked"
    outside = tmp_path / "aws"
    outside.write_text(f"#!/bin/sh\necho x >> {asked}\necho aws-cli/2.9.19 Python/3.11\n")
    outside.chmod(0o755)
    monkeypatch.setenv("SMP_COMPAT_AWSCLI_V2", str(outside))
    for _ in range(2):
        assert isinstance(resolve(variant("awscli-v2", "ecs-exec")), Resolved)
    assert asked.read_text().count("x") == 2
