"""Reads one parsed adapter file's values, collecting problems instead of stopping at the first."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compat.adapter.errors import TemplateSyntaxError
from compat.adapter.keyspec import Table
from compat.adapter.lookup import allowed
from compat.adapter.lookup import key as declaration
from compat.adapter.model import SessionKind
from compat.adapter.placeholders import PLACEHOLDERS, ApiCall, Kind, Mode
from compat.adapter.problems import Problem, describe, did_you_mean, join, quoted
from compat.adapter.templating import ArgvItem, Part, Text, parse, placeholders

__all__ = ["ENV_RE", "FileReader", "TemplateContext"]

ENV_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXAMPLE_GROUP = '["--profile", "{profile}"]'
#: Every launch key once, in a stable order: an unknown one in the wrong mode says so.
_LAUNCH_KEYS = allowed("launch")


@dataclass(frozen=True)
class TemplateContext:
    """What decides whether a placeholder is allowed where it appears."""

    mode: Mode
    kind: Kind
    session: SessionKind
    calls: tuple[ApiCall, ...] = ()
    has_target: bool = False


class FileReader:
    """Validates one parsed file, collecting problems instead of stopping at the first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def fail(self, key: str, message: str) -> None:
        self.problems.append(Problem(key, message))

    # -- scalar readers ----------------------------------------------------------------------

    def keys(
        self, table: Mapping[str, Any], allowed: Sequence[str], prefix: str, elsewhere: str = ""
    ) -> None:
        for key in table:
            if key in allowed:
                continue
            hint = did_you_mean(key, allowed)
            extra = f" ({elsewhere})" if elsewhere and key in _LAUNCH_KEYS else ""
            self.fail(
                join(prefix, key),
                f"unknown key{extra}; expected one of {', '.join(allowed)}{hint}",
            )

    def string(
        self,
        table: Mapping[str, Any],
        key: str,
        prefix: str,
        *,
        required: bool = False,
        choices: Sequence[str] = (),
    ) -> str | None:
        if key not in table:
            if required:
                self.fail(join(prefix, key), "missing; expected a string")
            return None
        value = table[key]
        if not isinstance(value, str):
            self.fail(join(prefix, key), f"expected a string, found {describe(value)}")
            return None
        if choices and value not in choices:
            self.fail(
                join(prefix, key),
                f"expected one of {quoted(choices)}, found {value!r}"
                + did_you_mean(value, choices),
            )
            return None
        return value

    def declared(
        self, table: Mapping[str, Any], schema_table: Table, name: str, prefix: str
    ) -> str | None:
        """A string key read as the schema declares it: required or not, one of its choices."""
        declared = declaration(schema_table, name)
        return self.string(
            table, name, prefix, required=declared.required, choices=declared.choices
        )

    def boolean(self, table: Mapping[str, Any], key: str, prefix: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.fail(join(prefix, key), f"expected true or false, found {describe(value)}")
            return default
        return value

    def strings(self, table: Mapping[str, Any], key: str, prefix: str) -> tuple[str, ...] | None:
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(join(prefix, key), f"expected an array of strings, found {describe(value)}")
            return None
        return tuple(value)

    def str_table(self, table: Mapping[str, Any], key: str, prefix: str) -> dict[str, str]:
        value = table.get(key, {})
        if not isinstance(value, dict):
            self.fail(join(prefix, key), f"expected a table of strings, found {describe(value)}")
            return {}
        out: dict[str, str] = {}
        for name, item in value.items():
            if isinstance(item, str):
                out[name] = item
            else:
                self.fail(
                    join(prefix, f"{key}.{name}"), f"expected a string, found {describe(item)}"
                )
        return out

    # -- templates ---------------------------------------------------------------------------

    def text(self, source: str, key: str, ctx: TemplateContext, *, in_group: bool) -> Text | None:
        try:
            text = parse(source)
        except TemplateSyntaxError as exc:
            self.fail(key, f"{exc.problem} at character {exc.position + 1} of {source!r}")
            return None
        for part in text.parts:
            self.placeholder(part, key, ctx, in_group=in_group)
        return text

    def placeholder(self, part: Part, key: str, ctx: TemplateContext, *, in_group: bool) -> None:
        spec = PLACEHOLDERS.get(part.name)
        if spec is None:
            close = difflib.get_close_matches(part.name, list(PLACEHOLDERS), n=1, cutoff=0.6)
            hint = f"; did you mean {{{close[0]}}}?" if close else ""
            self.fail(
                key,
                f"unknown placeholder {{{part.name}}}{hint} (adapters/README.md lists them all)",
            )
            return
        if ctx.kind not in spec.kinds:
            (other,) = spec.kinds
            self.fail(key, f"{{{part.name}}} is for {other} tools; this variant is {ctx.kind}")
        if ctx.mode not in spec.modes:
            self.fail(key, f"{{{part.name}}} only exists in replays; a run variant's tool makes it")
        if spec.port_forward_only and ctx.session != "port-forward":
            self.fail(key, f"{{{part.name}}} is only set in a port_forward launch")
        if spec.optional and not (in_group or part.empty_if_unset):
            self.fail(
                key,
                f"{{{part.name}}} may be unset; put it in an optional group like "
                f"{_EXAMPLE_GROUP} or write {{{part.name}?}} for an empty string",
            )
        if ctx.mode == "replay" and spec.produced_by and not spec.produced_by & set(ctx.calls):
            self.fail(
                key,
                f"{{{part.name}}} needs one of these in `calls`: "
                f"{quoted(sorted(spec.produced_by))}",
            )
        if part.name == "target_json" and not ctx.has_target:
            self.fail(key, "{target_json} needs `target` (and `target_format`) in this launch")

    def argv(
        self, table: Mapping[str, Any], key: str, prefix: str, ctx: TemplateContext
    ) -> tuple[ArgvItem, ...] | None:
        value = table.get(key)
        where = join(prefix, key)
        if value is None:
            self.fail(
                where, "missing; expected an array of strings (nested arrays: optional groups)"
            )
            return None
        if not isinstance(value, list) or not value:
            self.fail(where, f"expected a non-empty array of strings, found {describe(value)}")
            return None
        items: list[ArgvItem] = []
        for i, item in enumerate(value):
            item_key = f"{where}[{i}]"
            if isinstance(item, str):
                text = self.text(item, item_key, ctx, in_group=False)
                if text is not None:
                    items.append(text)
            elif isinstance(item, list):
                group = self.group(item, item_key, ctx)
                if group is not None:
                    items.append(group)
            else:
                self.fail(
                    item_key,
                    f"expected a string or an optional group (array of strings), found "
                    f"{describe(item)}",
                )
        if not isinstance(value[0], str) or (
            items and isinstance(items[0], Text) and items[0].parts
        ):
            self.fail(f"{where}[0]", "expected the program name as a plain string")
        return tuple(items)

    def group(self, item: list[Any], key: str, ctx: TemplateContext) -> tuple[Text, ...] | None:
        if not item or not all(isinstance(s, str) for s in item):
            self.fail(
                key,
                f"an optional group must be a non-empty array of strings, found {describe(item)}",
            )
            return None
        texts = [self.text(s, f"{key}[{j}]", ctx, in_group=True) for j, s in enumerate(item)]
        if any(t is None for t in texts):
            return None
        group = tuple(t for t in texts if t is not None)
        if not any(
            PLACEHOLDERS[p.name].optional for p in placeholders(group) if p.name in PLACEHOLDERS
        ):
            self.fail(
                key,
                "this optional group has no placeholder that can be unset, so it is always kept; "
                "use {profile} or {user_region} in it, or drop the brackets",
            )
        return group

    def texts(
        self, table: Mapping[str, Any], key: str, prefix: str, ctx: TemplateContext
    ) -> dict[str, Text]:
        out: dict[str, Text] = {}
        for name, source in self.str_table(table, key, prefix).items():
            text = self.text(source, join(prefix, f"{key}.{name}"), ctx, in_group=False)
            if text is not None:
                out[name] = text
        return out

    def env(self, table: Mapping[str, Any], prefix: str, ctx: TemplateContext) -> dict[str, Text]:
        """``env``: templates under names a process environment can hold (no ``=``, not "")."""
        out = self.texts(table, "env", prefix, ctx)
        for name in list(out):
            if not ENV_RE.fullmatch(name):
                self.fail(
                    join(prefix, f"env.{name}"),
                    f"expected an environment variable name (letters, digits, _; not starting "
                    f"with a digit), found {name!r}",
                )
                del out[name]
        return out
