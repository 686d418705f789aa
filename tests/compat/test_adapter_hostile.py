"""Hostile adapter files: each attack of issue 13 ("Low") gets one clear line at load, exit 2.

An adapter file may come from a pull request an outsider wrote. Whatever is in it, loading it
either succeeds or raises :class:`AdapterError` naming the file, the key and the reason; the
CLI prints that and exits 2, never a traceback, and nothing is left to fail at run time as a
``harness-error``. The last tests fuzz adapter files (mutated built-ins, generated documents).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compat.adapter.load import (
    MAX_FILE_BYTES,
    MAX_NAME_LENGTH,
    AdapterError,
    builtin_paths,
    file_path_problem,
    load_adapter,
)
from compat.adapter.model import VERSION_MATCH_TIMEOUT, Requirement
from compat.cli import main
from compat.runner.cellfiles import write_inside
from compat.runner.errors import UnsafeFilePathError
from compat.runner.toolenv import Missing, _check_version

BASE = """\
name = "mytool"
homepage = "https://github.com/me/mytool"
kind = "ecs-exec"

[[variant]]
version = "1.2.3"
mode = "run"
command = ["mytool", "exec", "--cluster", "{cluster}", "--task", "{task_id}", "{command}"]
"""


def _load(tmp_path: Path, extra: str = "", *, base: str = BASE) -> AdapterError:
    path = tmp_path / "mytool.toml"
    path.write_text(base + extra, encoding="utf-8")
    with pytest.raises(AdapterError) as caught:
        load_adapter(path)
    assert str(path) in str(caught.value)
    return caught.value


def _cli_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes) -> str:
    """``run --adapters FILE --list``: exit 2 and one line on stderr, naming the file."""
    path = tmp_path / "hostile.toml"
    path.write_bytes(data)
    assert main(["run", "--adapters", str(path), "--list"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err, captured.err
    assert re.match(rf"smp-compat run: error: {re.escape(str(path))}(:\d+:\d+)?: ", captured.err)
    return captured.err


# -- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "+inf", "-inf", "0", "-1.5", "1e10", "86401"])
def test_a_timeout_that_is_not_a_finite_positive_number_is_refused(
    tmp_path: Path, value: str
) -> None:
    error = _load(tmp_path, f"timeout = {value}\n")
    [problem] = error.problems
    assert problem.key == "variant[0] (1.2.3).timeout"
    assert "expected a number of seconds > 0 and at most 86400" in problem.message


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "0", "-3", "1e10"])
def test_run_timeout_nan_or_inf_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str
) -> None:
    assert main(["run", f"--timeout={value}", "--list", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expected a number of seconds > 0 and at most" in err, err
    assert not (tmp_path / "r").exists()


# -- names and values the process cannot take --------------------------------------------------


@pytest.mark.parametrize("name", ["A=B", "", "1X", "SP ACE", "X\\u0000Y"])
def test_env_names_a_process_cannot_hold_are_refused(tmp_path: Path, name: str) -> None:
    error = _load(tmp_path, f'env = {{ "{name}" = "v" }}\n')
    messages = " | ".join(f"{p.key}: {p.message}" for p in error.problems)
    assert "environment variable name" in messages or "NUL" in messages, messages
    assert ".env." in messages


@pytest.mark.parametrize("name", ["AWS_SECRET_ACCESS_KEY", "MYTOOL_PATH", "smp_compat_x"])
def test_path_env_outside_the_kits_allow_list_is_refused_at_load(tmp_path: Path, name: str) -> None:
    # The kit re-executes with SMP_COMPAT_* only (docs/isolation.md §1): any other name is
    # never set when the tool is looked up, and naming a secret only invites a leak.
    error = _load(tmp_path, f'requires = {{ binary = "mytool", path_env = "{name}" }}\n')
    messages = " | ".join(f"{p.key}: {p.message}" for p in error.problems)
    assert ".requires.path_env: expected a variable named SMP_COMPAT_* (the kit keeps" in messages
    assert repr(name) in messages, messages


def test_path_env_named_smp_compat_loads(tmp_path: Path) -> None:
    path = tmp_path / "mytool.toml"
    path.write_text(BASE + 'requires = { binary = "mytool", path_env = "SMP_COMPAT_MYTOOL" }\n')
    assert load_adapter(path).variants[0].requires.path_env == "SMP_COMPAT_MYTOOL"


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('env = { X = "a\\u0000b" }\n', "variant[0].env.X"),
        ('files = { "c.yml" = "k: \\u0000" }\n', "variant[0].files.c.yml"),
        ('notes = "x\\u0000"\n', "variant[0].notes"),
        ('requires.hint = "\\u0000"\n', "variant[0].requires.hint"),
    ],
)
def test_a_nul_anywhere_is_refused_with_its_key(tmp_path: Path, extra: str, key: str) -> None:
    error = _load(tmp_path, extra)
    assert [(p.key, p.message) for p in error.problems] == [
        (key, "contains a NUL character (\\u0000)")
    ]


def test_a_nul_in_a_command_template_is_refused(tmp_path: Path) -> None:
    base = BASE.replace('"{command}"]', '"{command}", "x\\u0000"]')
    error = _load(tmp_path, base=base)
    assert [p.key for p in error.problems] == ["variant[0].command[7]"]


# -- names that would not fit a file name --------------------------------------------------------


def test_a_300_character_tool_name_is_refused_at_load(tmp_path: Path) -> None:
    long = "x" * 300
    error = _load(tmp_path, base=BASE.replace('"mytool"', f'"{long}"', 1))
    [problem] = error.problems
    assert problem.key == "name"
    assert f"at most {MAX_NAME_LENGTH} characters, found 300" in problem.message


def test_a_300_character_variant_id_is_refused_at_load(tmp_path: Path) -> None:
    error = _load(tmp_path, f'id = "{"v" * 300}"\n')
    [problem] = error.problems
    assert problem.key == "variant[0] (1.2.3).id"
    assert f"at most {MAX_NAME_LENGTH} characters" in problem.message


def test_a_name_of_the_longest_allowed_length_loads(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(BASE.replace('"mytool"', f'"{"x" * MAX_NAME_LENGTH}"', 1))
    assert load_adapter(path).name == "x" * MAX_NAME_LENGTH


# -- files."sub/dir/x" -----------------------------------------------------------------------------


def test_files_in_subdirectories_load(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(BASE + 'files = { "conf/app/x.yml" = "cluster: {cluster}", "y" = "" }\n')
    variant = load_adapter(path).variants[0]
    assert set(variant.files) == {"conf/app/x.yml", "y"}


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("../x", "plain names"),
        ("a/../../x", "plain names"),
        ("/etc/passwd", "absolute"),
        ("a//b", "plain names"),
        ("a/./b", "plain names"),
        ("a/", "plain names"),
        ("", "empty name"),
        ("a\\\\b", "backslash"),
        ("d" * 256, "255 bytes"),
    ],
)
def test_file_names_that_leave_the_cell_are_refused_at_load(
    tmp_path: Path, name: str, fragment: str
) -> None:
    error = _load(tmp_path, f'files = {{ "{name}" = "x" }}\n')
    [problem] = error.problems
    assert problem.key.startswith("variant[0] (1.2.3).files.")
    assert fragment in problem.message, problem.message


def test_a_file_that_is_also_a_directory_is_refused(tmp_path: Path) -> None:
    error = _load(tmp_path, 'files = { "a" = "x", "a/b" = "y" }\n')
    [problem] = error.problems
    assert problem.key == "variant[0] (1.2.3).files.a"
    assert "a directory in another files key" in problem.message


def test_write_inside_creates_subdirectories_in_the_cell(tmp_path: Path) -> None:
    written = write_inside(tmp_path, "conf/app/x.yml", "cluster: c1\n")
    assert written == tmp_path / "conf" / "app" / "x.yml"
    assert written.read_text() == "cluster: c1\n"
    write_inside(tmp_path, "conf/app/y.yml", "second\n")  # an existing directory is reused
    assert sorted(p.name for p in (tmp_path / "conf" / "app").iterdir()) == ["x.yml", "y.yml"]


def test_write_inside_follows_no_planted_symlink(tmp_path: Path) -> None:
    cell, outside = tmp_path / "cell", tmp_path / "outside"
    cell.mkdir()
    outside.mkdir()
    (cell / "conf").symlink_to(outside)  # a directory on the way
    (cell / "x.yml").symlink_to(outside / "x.yml")  # the file itself
    with pytest.raises(UnsafeFilePathError, match="'conf' is not a directory of the cell"):
        write_inside(cell, "conf/x.yml", "escaped")
    with pytest.raises(UnsafeFilePathError, match="cannot write it"):
        write_inside(cell, "x.yml", "escaped")
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("name", ["../x", "/tmp/x", "a/../../x", "", "a//b"])
def test_write_inside_checks_the_name_itself(tmp_path: Path, name: str) -> None:
    assert file_path_problem(name) is not None
    with pytest.raises(UnsafeFilePathError):
        write_inside(tmp_path, name, "x")


# -- version_match ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        "^(a+)+$",
        # Backtracks until the limit stops it (seconds on a loaded machine).
        pytest.param("^(a|aa)+$", marks=pytest.mark.slow),
        "^(a|a?)+$",
        "(x+x+)+y",
    ],
)
def test_a_backtracking_version_match_is_bounded(tmp_path: Path, pattern: str) -> None:
    """The program prints what makes the pattern backtrack; resolution still ends in time."""
    program = tmp_path / "tool"
    program.write_text(f"#!/bin/sh\necho {'a' * 64}!\necho {'x' * 64}\n")
    program.chmod(0o755)
    requirement = Requirement(
        binary=str(program), version_args=("--version",), version_match=pattern
    )
    started = time.monotonic()
    found = _check_version(requirement, str(program))
    elapsed = time.monotonic() - started
    # The script's start plus at most the search's limit (a loaded machine: a margin).
    assert elapsed < 30 * VERSION_MATCH_TIMEOUT, elapsed
    assert isinstance(found, Missing) and found.code == "version-mismatch"
    if "did not finish" in found.detail:
        assert pattern in found.detail and "simplify the pattern" in found.detail


def test_a_version_match_that_is_not_a_regex_is_refused_at_load(tmp_path: Path) -> None:
    error = _load(
        tmp_path,
        'requires = { binary = "mytool", version_args = ["--version"], version_match = "(a" }\n',
    )
    [problem] = error.problems
    assert problem.key == "variant[0] (1.2.3).requires.version_match"
    assert problem.message.startswith("expected a regular expression")


# -- whole files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        pytest.param(b"a = " + b"[" * 5000 + b"]" * 5000, "nested too deeply", id="arrays-5000"),
        pytest.param(b"a = " + b"{b = " * 3000 + b"1" + b"}" * 3000, "nested", id="tables-3000"),
        pytest.param(b"a = " + b"[" * 40 + b"]" * 40, "nested more than 16", id="arrays-40"),
        pytest.param(b'name = "x\xff\xfe"\n', "not UTF-8 text", id="not-utf-8"),
        pytest.param(b"\xef\xbb\xbf" + BASE.encode(), "byte-order mark", id="bom"),
        pytest.param(b"#" * (MAX_FILE_BYTES + 1), "at most 1048576 bytes", id="huge"),
        pytest.param(b"\x00\x01\x02", "invalid TOML", id="binary"),
    ],
)
def test_hostile_files_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, fragment: str
) -> None:
    err = _cli_error(tmp_path, capsys, data)
    assert fragment in err, err


def test_a_huge_file_is_not_read_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A sparse 8 GiB file is refused from its first MiB (the read is bounded, not the size)."""
    path = tmp_path / "sparse.toml"
    with path.open("wb") as handle:
        handle.truncate(8 << 30)
    assert main(["run", "--adapters", str(path), "--list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "at most 1048576 bytes" in err, err


def test_a_fifo_is_refused_without_blocking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    codes: list[int] = []
    # Opening a FIFO blocks until a writer comes: a thread, so a regression fails, not hangs.
    thread = threading.Thread(
        target=lambda: codes.append(main(["run", "--adapters", str(fifo), "--list"])),
        daemon=True,
    )
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "loading opened the FIFO and blocked"
    err = capsys.readouterr().err
    assert codes == [2] and "not a regular file" in err and err.count("\n") == 1, err


def test_list_prints_the_cells_and_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mytool.toml"
    path.write_text(BASE)
    argv = ["run", "--adapters", str(path), "--adapter", "mytool", "--scenario", "shell"]
    assert main([*argv, "--list", "--out", str(tmp_path / "r")]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "mytool/1.2.3/shell/1.2.234.0",
        "mytool/1.2.3/shell/1.2.497.0",
        "mytool/1.2.3/shell/1.2.677.0",
    ]
    assert not (tmp_path / "r").exists()


# -- fuzzing ---------------------------------------------------------------------------------

_BUILTINS = [p.read_bytes() for p in builtin_paths()]


def _toml_key(key: str) -> str:
    return json.dumps(key, ensure_ascii=False)


def _toml_value(value: object) -> str:
    """Inline TOML for a generated value (JSON's string escapes are TOML's too)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def _toml(document: dict[str, Any]) -> bytes:
    return "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in document.items()).encode()


_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "{cluster}", "{profile}", "{nope}", "{", "}}", "{profile?}", "../x", "/abs", "a/b",
            "A=B", "", "run", "replay", "ecs-exec", "ssm-session", "shell", "x" * 300,
            "^(a|aa)+$", "(", "kayac/ecspresso@0bdf55b:exec.go:87", "go", "proxy",
            "ecs.ExecuteCommand", "ssm.StartSession", "github.com/a/b@v1.0.0", "pkg==1.0",
        ]
    ),
)  # fmt: skip
_SCALAR = st.one_of(
    _TEXT,
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
)
_VALUE = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=4)),
    max_leaves=12,
)


@st.composite
def _mutated_builtin(draw: st.DrawFn) -> bytes:
    """A built-in adapter with one value, key or subtree replaced or removed (valid TOML)."""
    document = tomllib.loads(draw(st.sampled_from(_BUILTINS)).decode())
    for _ in range(draw(st.integers(1, 3))):
        node: Any = document
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if isinstance(child, dict | list) and child and draw(st.booleans()):
                node = child
                continue
            action = draw(st.integers(0, 5))
            if isinstance(node, dict) and action == 0:
                del node[key]
            elif isinstance(node, dict) and action == 1:
                node[draw(_TEXT)] = child
            else:
                node[key] = draw(_VALUE)
            break
    return _toml(document)


@st.composite
def _mangled_bytes(draw: st.DrawFn) -> bytes:
    """A built-in adapter's bytes, cut, spliced and overwritten (mostly not TOML at all)."""
    data = bytearray(draw(st.sampled_from(_BUILTINS)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        size = draw(st.integers(0, 16))
        data[at : at + size] = draw(st.binary(max_size=16))
    return bytes(data)


_ADAPTER_FILES = st.one_of(
    _mutated_builtin(), _mangled_bytes(), st.dictionaries(_TEXT, _VALUE, max_size=6).map(_toml)
)


def _loads_or_refuses(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.toml"
        try:
            load_adapter(path, data)
        except AdapterError as exc:
            lines = str(exc).splitlines()
            assert lines and all(line.startswith(f"{path}") for line in lines), lines


def _cli_exits_0_or_2(data: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.toml"
        path.write_bytes(data)
        argv = ["run", "--adapters", str(path), "--list", "--release", "1.2.677.0"]
        code = main([*argv, "--scenario", "shell", "--out", str(Path(tmp) / "r")])
        err = capsys.readouterr().err
        assert "Traceback" not in err, err
        if code == 0:
            assert err == ""
        else:
            # One line per problem, every one naming a file (the kit's error, never Python's).
            assert code == 2, (code, err)
            lines = err.splitlines()
            assert lines[0].startswith("smp-compat run: error: "), err
            assert all(re.search(r"\.toml(:\d+:\d+)?: ", line) for line in lines), err
        assert not (Path(tmp) / "r").exists()


def _fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@_fuzz(30)
@given(data=_ADAPTER_FILES)
def test_fuzzed_adapter_files_load_or_give_the_adapter_error(data: bytes) -> None:
    _loads_or_refuses(data)


@_fuzz(8)
@given(data=_ADAPTER_FILES)
def test_fuzzed_adapter_files_through_the_cli_exit_0_or_2(
    data: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    _cli_exits_0_or_2(data, capsys)


@pytest.mark.slow
@_fuzz(1500)
@given(data=_ADAPTER_FILES)
def test_many_fuzzed_adapter_files_load_or_give_the_adapter_error(data: bytes) -> None:
    _loads_or_refuses(data)


@pytest.mark.slow
@_fuzz(200)
@given(data=_ADAPTER_FILES)
def test_many_fuzzed_adapter_files_through_the_cli_exit_0_or_2(
    data: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    _cli_exits_0_or_2(data, capsys)


def test_the_fuzzer_serializes_real_adapters_faithfully() -> None:
    """The generator's TOML writer round-trips every built-in (else the fuzz proves little)."""
    for raw in _BUILTINS:
        document = tomllib.loads(raw.decode())
        assert tomllib.loads(_toml(document).decode()) == document
    assert sys.version_info >= (3, 11)


def test_a_line_break_in_a_key_or_version_cannot_start_a_line_of_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CR, LF or U+2028 from the file is escaped in the message, so no line can be forged."""
    base = BASE.replace('version = "1.2.3"', 'version = "1.0\\r<!--"')
    data = (base + '"bad\\nkey\\u2028" = 1\n"" = 2\n').encode()
    err = _cli_error_lines(tmp_path, capsys, data)
    assert len(err) == 3, err
    assert any("(1.0\\r<!--)" in line for line in err), err
    assert any("bad\\nkey\\u2028" in line for line in err), err
    assert any('""' in line for line in err), err


def _cli_error_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes) -> list[str]:
    path = tmp_path / "hostile.toml"
    path.write_bytes(data)
    assert main(["run", "--adapters", str(path), "--list"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert all(str(path) in line for line in lines), lines
    return lines
