"""One ``[[variant]]`` table: a release of the tool, run for real or replayed."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Literal, cast

from compat.adapter.filepaths import file_path_problem
from compat.adapter.launch import read_launch
from compat.adapter.lookup import allowed, keys
from compat.adapter.model import (
    MAX_TIMEOUT,
    Kind,
    Launch,
    LaunchType,
    Mode,
    Reach,
    SessionKind,
    Variant,
)
from compat.adapter.problems import describe, join
from compat.adapter.reader import FileReader, TemplateContext
from compat.adapter.requires import read_requirement
from compat.adapter.templating import Text

__all__ = ["MAX_NAME_LENGTH", "read_variant"]

#: A tool name or variant id becomes part of cell ids and evidence directory names; a file
#: name has at most 255 bytes (ENAMETOOLONG beyond), and cell ids are read in tables.
MAX_NAME_LENGTH = 64
#: Docker's reference grammar, loosely: [registry[:port]/]path[:tag][@sha256:digest].
_IMAGE_RE = re.compile(
    r"[a-z0-9]+(?:[._:/-]+[a-z0-9]+)*(?::\w[\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


def read_variant(fl: FileReader, raw: object, index: int, tool_kind: Kind | None) -> Variant | None:
    """The ``index``-th ``[[variant]]``, or ``None`` with its problems in ``fl``."""
    prefix = f"variant[{index}]"
    if not isinstance(raw, dict):
        fl.fail(prefix, f"expected a table ([[variant]]), found {describe(raw)}")
        return None
    version = fl.declared(raw, "variant", "version", prefix)
    if version is not None:
        prefix = f"variant[{index}] ({version})"
    mode = cast(
        Mode | None,
        fl.declared(raw, "variant", "mode", prefix),
    )
    kind = cast(Kind | None, fl.declared(raw, "variant", "kind", prefix)) or tool_kind
    if mode is None or kind is None or version is None:
        # Without these nothing else can be checked meaningfully.
        fl.keys(raw, (*allowed("variant"), *allowed("launch")), prefix)
        return None
    _check_keys(fl, raw, prefix, mode)
    image = _image(fl, raw, prefix, mode)
    files = _files(fl, raw, prefix, TemplateContext(mode, kind, "shell"))
    _check_kind(fl, raw, prefix, kind)
    launches = _launches(fl, raw, prefix, mode, kind)
    timeout = _timeout(fl, raw, prefix)
    variant_id = _variant_id(fl, raw, prefix, version)
    requires = (
        read_requirement(
            fl,
            raw.get("requires"),
            prefix,
            next((lc.command for lc in launches.values() if lc.command), None),
        )
        if mode == "run"
        else None
    )
    return Variant(
        id=variant_id,
        version=version,
        mode=mode,
        kind=kind,
        launches=launches,
        reach=cast(
            Reach,
            fl.declared(raw, "variant", "reach", prefix) or "endpoint",
        ),
        tty=fl.boolean(raw, "tty", prefix, default=False),
        requires=requires,
        files=files,
        cluster=fl.string(raw, "cluster", prefix),
        task_tags=fl.str_table(raw, "task_tags", prefix),
        instance_tags=fl.str_table(raw, "instance_tags", prefix),
        launch_type=cast(
            LaunchType, fl.declared(raw, "variant", "launch_type", prefix) or "FARGATE"
        ),
        session_document=fl.string(raw, "session_document", prefix),
        profile_via=_via(fl, raw, prefix, "profile_via", launches, "profile"),
        region_via=_via(fl, raw, prefix, "region_via", launches, "user_region"),
        timeout=timeout,
        notes=fl.string(raw, "notes", prefix) or "",
        image=image,
    )


def _check_keys(fl: FileReader, raw: Mapping[str, Any], prefix: str, mode: Mode) -> None:
    """Unknown keys (naming the mode a key belongs to) and a replay's ``requires``."""
    other = "a replay variant's" if mode == "run" else "a run variant's"
    fl.keys(
        raw,
        (*allowed("variant", mode), *allowed("launch", mode)),
        prefix,
        elsewhere=f"it is {other} key; this one is mode = {mode!r}",
    )
    if mode == "replay" and "requires" in raw:
        fl.fail(join(prefix, "requires"), "a replay needs nothing installed; remove it")


#: The key a variant of the other kind means instead (tags of its own seeded target).
_COUNTERPART = {"task_tags": "instance_tags", "instance_tags": "task_tags"}


def _check_kind(fl: FileReader, raw: Mapping[str, Any], prefix: str, kind: Kind) -> None:
    """Keys about the other kind's seeded target (its tags, an ECS launch type)."""
    target = "an EC2 instance" if kind == "ssm-session" else "an ECS task"
    for declared in keys("variant"):
        if declared.name in raw and kind not in declared.kinds:
            instead = _COUNTERPART.get(declared.name)
            fl.fail(
                join(prefix, declared.name),
                f"this variant is {kind}: its seeded target is {target}"
                + (f"; use {instead}" if instead else ""),
            )


def _files(
    fl: FileReader, raw: Mapping[str, Any], prefix: str, ctx: TemplateContext
) -> dict[str, Text]:
    """``files``: templates under paths inside the cell, none both a file and a directory."""
    files = fl.texts(raw, "files", prefix, ctx)
    for name in files:
        problem = file_path_problem(name)
        if problem is None and any(other.startswith(f"{name}/") for other in files):
            problem = f"{name!r} is a file here and a directory in another files key"
        if problem is not None:
            fl.fail(join(prefix, f"files.{name}"), problem)
    return files


def _launches(
    fl: FileReader, raw: Mapping[str, Any], prefix: str, mode: Mode, kind: Kind
) -> dict[SessionKind, Launch]:
    """The shell launch (the variant's own keys) and the ``port_forward`` one."""
    launches: dict[SessionKind, Launch] = {}
    shell = None
    # A run variant of a tool that only forwards ports (basti) gives no shell `command`; its
    # shell scenarios are then n/a, like the port-forward ones of a variant without port_forward.
    if mode != "run" or "command" in raw or "port_forward" not in raw:
        shell = read_launch(fl, raw, prefix, mode=mode, kind=kind, session="shell", base_env={})
    if shell is not None:
        launches["shell"] = shell
    pf_raw = raw.get("port_forward")
    if pf_raw is None:
        return launches
    pf_prefix = join(prefix, "port_forward")
    if not isinstance(pf_raw, dict):
        fl.fail(pf_prefix, f"expected a table, found {describe(pf_raw)}")
        return launches
    fl.keys(pf_raw, allowed("launch", mode), pf_prefix)
    pf = read_launch(
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
    return launches


def _timeout(fl: FileReader, raw: Mapping[str, Any], prefix: str) -> float | None:
    timeout = raw.get("timeout")
    if timeout is None:
        return None
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or not 0 < timeout <= MAX_TIMEOUT
    ):
        fl.fail(
            join(prefix, "timeout"),
            f"expected a number of seconds > 0 and at most {MAX_TIMEOUT:g}, "
            f"found {describe(timeout)}",
        )
        return None
    return float(timeout)


def _variant_id(fl: FileReader, raw: Mapping[str, Any], prefix: str, version: str) -> str:
    """``id``, or the version: a cell id segment either way."""
    variant_id = fl.string(raw, "id", prefix) or version
    id_key = join(prefix, "id" if "id" in raw else "version")
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
    return variant_id


def _via(
    fl: FileReader,
    raw: Mapping[str, Any],
    prefix: str,
    name: str,
    launches: Mapping[SessionKind, Launch],
    placeholder: str,
) -> Literal["flag", "env"]:
    """``profile_via`` / ``region_via``, derived from the templates when unset."""
    derived = "flag" if any(lc.uses(placeholder) for lc in launches.values()) else "env"
    return cast(
        Literal["flag", "env"],
        fl.declared(raw, "variant", name, prefix) or derived,
    )


def _image(fl: FileReader, raw: Mapping[str, Any], prefix: str, mode: Mode) -> str | None:
    """A run variant's container image: a reference the engine can resolve locally."""
    image = fl.string(raw, "image", prefix)
    if image is None:
        return None
    key = join(prefix, "image")
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
