"""compat.install.once: the build-once flow the Go, npm and PyPI-bundle installers share."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from compat.install.errors import InstallRefused
from compat.install.once import Once, publish, scratch


class _Error(Exception):
    pass


def _entry(tmp_path: Path, *, remember: bool = True) -> tuple[Once, Path]:
    final = tmp_path / "tool@1.0"
    program = final / "bin" / "tool"
    once = Once(
        ready=lambda: program if program.exists() else None,
        lock=tmp_path / "tool@1.0.lock",
        failed=tmp_path / "tool@1.0.failed" if remember else None,
        error=_Error,
    )
    return once, final


def _make(final: Path, calls: list[int]) -> None:
    calls.append(1)
    with scratch(final) as work:
        (work / "bin").mkdir()
        (work / "bin" / "tool").write_text("#!/bin/sh\n")
        publish(work, final)


def test_built_once_then_reused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    once, final = _entry(tmp_path)
    calls: list[int] = []
    assert once.reuse(allowed=True, disabled="off") is None
    found = once.build(lambda: _make(final, calls), starting="building tool", done="built tool")
    assert found == final / "bin" / "tool"
    err = capsys.readouterr().err
    assert err.startswith("building tool\nbuilt tool in ")
    assert once.reuse(allowed=False, disabled="off") == found
    assert once.build(lambda: _make(final, calls), starting="again", done="again") == found
    assert calls == [1]
    assert capsys.readouterr().err == ""
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_installs_disabled_is_the_reason(tmp_path: Path) -> None:
    once, _ = _entry(tmp_path)
    with pytest.raises(_Error, match=r"^tool@1.0 is not built \(installs disabled\)$"):
        once.reuse(allowed=False, disabled="tool@1.0 is not built (installs disabled)")


def test_a_refusal_is_remembered_and_nothing_half_done_stays(tmp_path: Path) -> None:
    once, final = _entry(tmp_path)

    def refuse() -> None:
        with scratch(final) as work:
            (work / "half").write_text("")
            raise InstallRefused("the registry has no tool@1.0")

    with pytest.raises(_Error, match=r"^the registry has no tool@1\.0 \(remembered") as first:
        once.build(refuse, starting="building", done="built")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tool@1.0.failed", "tool@1.0.lock"]
    for allowed in (True, False):  # with installs disabled too: the reason is the same
        with pytest.raises(
            _Error, match=r"remembered; delete .*tool@1.0.failed to retry now"
        ) as later:
            once.reuse(allowed=allowed, disabled="off")
        # The run that met the refusal says what every later run says (shards agree).
        assert str(later.value) == str(first.value)


def test_other_errors_and_unremembered_refusals_are_asked_again(tmp_path: Path) -> None:
    once, final = _entry(tmp_path, remember=False)

    def refuse() -> None:
        raise InstallRefused("no")

    with pytest.raises(_Error, match=r"^no$"):
        once.build(refuse, starting="building", done="built")
    assert once.reuse(allowed=True, disabled="off") is None
    calls: list[int] = []
    assert once.build(lambda: _make(final, calls), starting="b", done="d").exists()


def test_two_builders_at_once_build_once(tmp_path: Path) -> None:
    once, final = _entry(tmp_path)
    calls: list[int] = []
    inside = threading.Event()
    release = threading.Event()

    def slow() -> None:
        inside.set()
        release.wait(10)
        _make(final, calls)

    first = threading.Thread(target=once.build, args=(slow,), kwargs={"starting": "s", "done": "d"})
    first.start()
    assert inside.wait(10)
    found: list[Path] = []
    second = threading.Thread(
        target=lambda: found.append(once.build(lambda: _make(final, calls), starting="s", done="d"))
    )
    second.start()
    release.set()
    first.join(10)
    second.join(10)
    assert calls == [1]
    assert found == [final / "bin" / "tool"]
