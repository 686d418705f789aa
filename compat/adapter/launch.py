"""One launch of a variant: a run variant's command, or a replay's calls, argv and target."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from compat.adapter.formats import SESSION_FORMATS, TARGET_FORMATS, SessionFormat, TargetFormat
from compat.adapter.model import Citation, Launch, SessionKind, Target
from compat.adapter.placeholders import API_CALLS, ApiCall, Kind, Mode
from compat.adapter.problems import describe, did_you_mean, join, quoted
from compat.adapter.reader import FileReader, TemplateContext
from compat.adapter.templating import Text, placeholders

__all__ = ["read_launch"]

_CITATION_RE = re.compile(
    r"(?P<repo>[\w.-]+/[\w.-]+)@(?P<commit>[0-9a-f]{7,40}):(?P<path>[^:\s]+):"
    r"(?P<line>\d+(?:-\d+)?)"
)


def _citation(fl: FileReader, table: Mapping[str, Any], prefix: str) -> Citation | None:
    source = fl.string(table, "source", prefix, required=True)
    if source is None:
        return None
    match = _CITATION_RE.fullmatch(source)
    if match is None:
        fl.fail(
            join(prefix, "source"),
            f"expected owner/repo@commit:path:line (e.g. kayac/ecspresso@0bdf55b:exec.go:87), "
            f"found {source!r}",
        )
        return None
    return Citation(match["repo"], match["commit"], match["path"], match["line"])


def _calls(fl: FileReader, table: Mapping[str, Any], prefix: str) -> tuple[ApiCall, ...]:
    raw = fl.strings(table, "calls", prefix)
    if raw is None:
        if "calls" not in table:
            fl.fail(join(prefix, "calls"), f"missing; expected an array of {quoted(API_CALLS)}")
        return ()
    calls: list[ApiCall] = []
    for i, call in enumerate(raw):
        if call in API_CALLS:
            calls.append(cast(ApiCall, call))
        else:
            fl.fail(
                f"{join(prefix, 'calls')}[{i}]",
                f"expected one of {quoted(API_CALLS)}, found {call!r}"
                + did_you_mean(call, API_CALLS),
            )
    if not {"ecs.ExecuteCommand", "ssm.StartSession"} & set(calls):
        fl.fail(
            join(prefix, "calls"),
            'expected "ecs.ExecuteCommand" or "ssm.StartSession" among the calls: a release '
            "starts the session before it starts the plugin",
        )
    return tuple(calls)


def _target(
    fl: FileReader, table: Mapping[str, Any], prefix: str, ctx: TemplateContext
) -> Target | None:
    value = fl.string(table, "target", prefix)
    fmt = fl.declared(table, "launch", "target_format", prefix)
    document = fl.string(table, "document", prefix)
    raw_params = table.get("parameters")
    if value is None:
        for key in ("target_format", "document", "parameters"):
            if key in table:
                fl.fail(join(prefix, key), "only meaningful with `target`")
        return None
    text = fl.text(value, join(prefix, "target"), ctx, in_group=False)
    if "target_format" not in table:
        fl.fail(
            join(prefix, "target_format"),
            f"missing; expected one of {quoted(TARGET_FORMATS)} (how the release serialises it)",
        )
    params: dict[str, tuple[Text, ...]] | None = None
    if raw_params is not None:
        params = {}
        if not isinstance(raw_params, dict):
            fl.fail(join(prefix, "parameters"), f"expected a table, found {describe(raw_params)}")
        else:
            for name, values in raw_params.items():
                key = join(prefix, f"parameters.{name}")
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    fl.fail(key, f"expected an array of strings, found {describe(values)}")
                    continue
                texts = [
                    fl.text(v, f"{key}[{i}]", ctx, in_group=False) for i, v in enumerate(values)
                ]
                params[name] = tuple(t for t in texts if t is not None)
    if text is None or fmt is None:
        return None
    return Target(text, cast(TargetFormat, fmt), document, params)


def read_launch(
    fl: FileReader,
    table: Mapping[str, Any],
    prefix: str,
    *,
    mode: Mode,
    kind: Kind,
    session: SessionKind,
    base_env: Mapping[str, Text],
) -> Launch | None:
    if mode == "run":
        ctx = TemplateContext(mode, kind, session)
        command = fl.argv(table, "command", prefix, ctx)
        env = {**base_env, **fl.env(table, prefix, ctx)}
        return None if command is None else Launch(session, command=command, env=env)
    calls = _calls(fl, table, prefix)
    ctx = TemplateContext(mode, kind, session, calls, has_target="target" in table)
    source = _citation(fl, table, prefix)
    fmt = fl.declared(table, "launch", "session", prefix)
    target = _target(fl, table, prefix, ctx)
    argv = fl.argv(table, "argv", prefix, ctx)
    env = {**base_env, **fl.env(table, prefix, ctx)}
    used = placeholders((*(argv or ()), *env.values()))
    names = {p.name for p in used}
    if fmt is None and "session" not in table and names & {"session_json"}:
        fl.fail(
            join(prefix, "session"),
            f"missing; {{session_json}} needs a format, one of {quoted(SESSION_FORMATS)}",
        )
    if target is not None and "target_json" not in names:
        fl.fail(join(prefix, "target"), "set, but neither argv nor env uses {target_json}")
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
