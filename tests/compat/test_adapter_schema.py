"""The declarative adapter schema drives the loader's key checks and the README's key tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from compat.adapter.errors import AdapterError
from compat.adapter.keyspec import Key
from compat.adapter.load import load_adapter
from compat.adapter.schema import KEYS
from compat.adapter.schema_doc import README, render

_TOOL = 'name = "t"\nhomepage = "h"\nkind = "ecs-exec"\n'
_RUN = '[[variant]]\nversion = "1"\nmode = "run"\ncommand = ["t"]\n'
_REPLAY = (
    '[[variant]]\nversion = "1"\nmode = "replay"\nsource = "o/r@abcdef0:x.go:1"\n'
    'calls = ["ecs.ExecuteCommand"]\nargv = ["session-manager-plugin"]\n'
)


def _problems(tmp_path: Path, text: str) -> str:
    path = tmp_path / "t.toml"
    path.write_text(text)
    try:
        load_adapter(path)
    except AdapterError as exc:
        return str(exc)
    return ""


def test_readme_key_tables_are_the_schemas() -> None:
    text = README.read_text(encoding="utf-8")
    assert text.count("<!-- schema:") == 4
    assert render(text) == text, "run: python -m compat.adapter.schema_doc"


def test_a_stale_readme_table_is_rewritten() -> None:
    text = README.read_text(encoding="utf-8")
    stale = text.replace("| `homepage` | yes | where the tool lives |\n", "")
    assert stale != text
    assert render(stale) == text


def _placed(k: Key) -> list[tuple[str, str]]:
    """(mode, file) with ``k`` set to a value of the wrong type where the schema allows it."""
    bad = "[1]" if k.type == "string" else '"x"'
    out = []
    for mode in k.modes:
        body = _RUN if mode == "run" else _REPLAY
        if k.table == "tool":
            out.append((mode, _TOOL.replace('kind = "ecs-exec"\n', "") + f"{k.name} = {bad}\n"))
        elif k.table == "requires":
            out.append((mode, _TOOL + body + f"requires.{k.name} = {bad}\n"))
        else:
            out.append((mode, _TOOL + body + f"{k.name} = {bad}\n"))
    return out


@pytest.mark.parametrize("k", KEYS, ids=lambda k: f"{k.table}.{k.name}")
def test_every_declared_key_is_accepted_where_the_schema_allows_it(tmp_path: Path, k: Key) -> None:
    for mode, text in _placed(k):
        message = _problems(tmp_path, text)
        assert "unknown key" not in message, (mode, message)


@pytest.mark.parametrize("name", ["image", "requires", "files", "command", "argv", "env"])
def test_a_variant_without_version_still_knows_every_variant_key(tmp_path: Path, name: str) -> None:
    text = _TOOL + f'[[variant]]\nmode = "run"\n{name} = "x"\n'
    message = _problems(tmp_path, text)
    assert "version: missing" in message
    assert "unknown key" not in message, message


def test_an_undeclared_key_is_unknown_with_a_hint(tmp_path: Path) -> None:
    message = _problems(tmp_path, _TOOL + _RUN + 'imag = "a/b:1"\n')
    assert "variant[0] (1).imag: unknown key" in message
    assert "did you mean 'image'?" in message
