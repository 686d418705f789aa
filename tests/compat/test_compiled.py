"""``compat.compiled``: the kit's C programs compiled once per source and compiler, placed whole."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from compat.compiled import compiled, place
from compat.errors import CompileError

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (cc) here")

HELLO = '#include <stdio.h>\nint main(void) { puts("%s"); return 0; }\n'


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _source(tmp_path: Path, said: str) -> Path:
    source = tmp_path / f"{said}.c"
    source.write_text(HELLO % said, encoding="utf-8")
    return source


def test_compiled_once_per_source_and_reused(tmp_path: Path) -> None:
    first = compiled(_source(tmp_path, "one"), "demo", "hello", ["-O2"], compiler="cc")
    assert subprocess.run([first], capture_output=True, text=True, check=True).stdout == "one\n"
    stamp = first.stat().st_mtime_ns
    assert compiled(_source(tmp_path, "one"), "demo", "hello", ["-O2"], compiler="cc") == first
    assert first.stat().st_mtime_ns == stamp  # reused, not compiled again
    other = compiled(_source(tmp_path, "two"), "demo", "hello", ["-O2"], compiler="cc")
    assert other != first and other.parent.parent == first.parent.parent
    # Nothing half-done beside them: only the finished binaries.
    assert sorted(p.name for p in first.parent.parent.rglob("*")) == sorted(
        [first.parent.name, other.parent.name, "hello", "hello"]
    )


def test_a_failed_compile_and_a_missing_compiler_say_why(tmp_path: Path) -> None:
    broken = tmp_path / "broken.c"
    broken.write_text("int main(void) { return undefined_thing; }\n", encoding="utf-8")
    with pytest.raises(CompileError, match="undefined_thing"):
        compiled(broken, "demo", "broken", [], compiler="cc")
    assert not list((tmp_path / "cache").rglob("broken"))
    with pytest.raises(CompileError, match=r"^no C compiler 'no-such-cc'$"):
        compiled(broken, "demo", "broken", [], compiler="no-such-cc")


def test_place_replaces_a_planted_link_and_never_writes_through_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me\n", encoding="utf-8")
    target = tmp_path / "bin" / "program"
    target.parent.mkdir()
    target.symlink_to(victim)
    placed = place(target, lambda tmp: tmp.write_text("new\n", encoding="utf-8"))
    assert placed == target and not target.is_symlink()
    assert (target.read_text(encoding="utf-8"), victim.read_text(encoding="utf-8")) == (
        "new\n",
        "keep me\n",
    )
    assert sorted(p.name for p in target.parent.iterdir()) == ["program"]  # no scratch left
