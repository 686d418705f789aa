"""A run variant's ``requires`` table: how the runner finds or installs the tool."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

import regex

from compat.adapter.lookup import allowed
from compat.adapter.model import Requirement
from compat.adapter.problems import describe, join
from compat.adapter.reader import ENV_RE, FileReader
from compat.adapter.templating import ArgvItem, Text
from compat.install.gobuild import GoPackage
from compat.install.npm import NpmPackage
from compat.install.pypi_bundle import PIN_RE

__all__ = ["read_requirement"]


def read_requirement(
    fl: FileReader, raw: object, prefix: str, command: tuple[ArgvItem, ...] | None
) -> Requirement | None:
    key = join(prefix, "requires")
    if raw is None:
        first = command[0] if command else None
        if isinstance(first, Text) and not first.parts:
            return Requirement(binary=first.source)
        return None
    if not isinstance(raw, dict):
        fl.fail(
            key,
            f"expected a table (requires.pypi, .go or .binary), found {describe(raw)}",
        )
        return None
    fl.keys(raw, allowed("requires"), key)
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
            join(key, "npm"),
            f"expected an exact pin <name>@<x.y.z> (basti@1.7.3), found {npm!r}",
        )
    if go is not None and GoPackage.parse(go) is None:
        fl.fail(
            join(key, "go"),
            f"expected <package path>@v<version> (github.com/kayac/ecspresso/cmd/ecspresso@v1.5.9)"
            f", found {go!r}",
        )
    if path_env is not None and not (
        ENV_RE.fullmatch(path_env) and path_env.startswith("SMP_COMPAT_")
    ):
        # The kit keeps no other variable of its environment (docs/isolation.md §1): any other
        # name could never be set, and a secret's name would only invite a leak.
        fl.fail(
            join(key, "path_env"),
            f"expected a variable named SMP_COMPAT_* (the kit keeps no other), found {path_env!r}",
        )
    version_match = fl.string(raw, "version_match", key)
    if version_match is not None:
        try:
            regex.compile(version_match, regex.MULTILINE)
        except (regex.error, ValueError, OverflowError, RecursionError) as exc:
            fl.fail(join(key, "version_match"), f"expected a regular expression: {exc}")
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


def _bundle(fl: FileReader, raw: Mapping[str, Any], key: str) -> tuple[str | None, str | None]:
    """``pypi_bundle`` (an exact pin) and ``bundle_path`` (``glob!glob!…``) go together."""
    pin = fl.string(raw, "pypi_bundle", key)
    path = fl.string(raw, "bundle_path", key)
    if pin is not None and not PIN_RE.fullmatch(pin):
        fl.fail(
            join(key, "pypi_bundle"),
            f"expected an exact pin name==version (e.g. aws-cdk-asset-awscli-v2==2.0.198), "
            f"found {pin!r}",
        )
    if path is not None:
        for step in path.split("!"):
            pure = PurePosixPath(step)
            if not step or pure.is_absolute() or ".." in pure.parts:
                fl.fail(
                    join(key, "bundle_path"),
                    f"expected relative archive paths joined by '!' (e.g. "
                    f"*.jsii.tgz!package/lib/layer.zip!awscli/v2/*/dist/aws), found {path!r}",
                )
                break
    if (pin is None) != (path is None):
        fl.fail(key, "`pypi_bundle` and `bundle_path` go together")
    return pin, path
