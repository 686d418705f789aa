"""The adapter model: how to drive one caller tool, release by release (loaded from TOML).

An adapter is data, never code: a ``run`` variant
names the real program and its command line; a ``replay`` variant reproduces, with a citation,
the exact argv one release built and the API calls it made first. ``compat.adapter.load``
reads and validates the files; this module only describes what a valid adapter is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import regex

from compat.adapter.formats import SessionFormat, TargetFormat
from compat.adapter.placeholders import ApiCall, Kind, Mode
from compat.adapter.templating import Argv, Text, placeholders

__all__ = [
    "MAX_TIMEOUT",
    "VERSION_MATCH_TIMEOUT",
    "Adapter",
    "ApiCall",
    "Citation",
    "Kind",
    "Launch",
    "LaunchType",
    "Mode",
    "Reach",
    "Requirement",
    "SessionKind",
    "Target",
    "Variant",
]

#: Seconds ``requires.version_match`` may search a program's output. Python's ``re`` cannot be
#: interrupted, and a pattern such as ``^(a|aa)+$`` backtracks for hours; the ``regex``
#: library stops the search after this and raises :class:`TimeoutError`.
VERSION_MATCH_TIMEOUT = 1.0
#: The longest cell timeout, in seconds (a day): longer ones overflow the waits that enforce
#: them (``threading``'s limit is 2**63 ns) and no cell needs more.
MAX_TIMEOUT = 86400.0

#: How the tool's own AWS clients reach the fake AWS: ``AWS_ENDPOINT_URL`` (and
#: ``--endpoint-url`` where the template passes it), or the intercepting HTTPS proxy for SDKs
#: that ignore endpoint settings (aws-sdk-go v1: copilot, ecspresso v1; docs/ecosystem.md §2).
Reach = Literal["endpoint", "proxy"]
#: The kind of session a launch starts; the scenario decides which one a cell needs.
SessionKind = Literal["shell", "port-forward"]
#: Where the seeded ECS task runs: Fargate, or an EC2 container instance (ssm-ecs reads the
#: task's ``containerInstanceArn`` and opens an SSM session on that host).
LaunchType = Literal["FARGATE", "EC2"]


@dataclass(frozen=True)
class Citation:
    """``owner/repo@commit:path:line`` — the upstream line a replay reproduces."""

    repo: str
    commit: str
    path: str
    #: ``"87"`` or a range ``"97-99"``.
    line: str

    def __str__(self) -> str:
        return f"{self.repo}@{self.commit}:{self.path}:{self.line}"

    @property
    def url(self) -> str:
        """A permalink a person can open."""
        anchor = "-".join(f"L{n}" for n in self.line.split("-"))
        return f"https://github.com/{self.repo}/blob/{self.commit}/{self.path}#{anchor}"


@dataclass(frozen=True)
class Requirement:
    """What must be installed for a ``run`` variant; when it is missing the cell is skipped."""

    #: A pip requirement the runner installs into a cached venv, e.g. ``aws-gate==0.11.3``.
    pypi: str | None = None
    #: A pinned PyPI artifact (``name==version``) that carries the program, maybe archives
    #: deep (``compat/pypi_bundle``): the official AWS CLI v2 in ``aws-cdk-asset-awscli-v2``.
    pypi_bundle: str | None = None
    #: Where the program is in ``pypi_bundle``: globs, one per archive, joined by ``!``.
    bundle_path: str | None = None
    #: A Go main package at a version, built from the module proxy into the cache
    #: (``compat.install.gobuild``), e.g. ``github.com/kayac/ecspresso/cmd/ecspresso@v1.5.9``.
    go: str | None = None
    #: An exact npm pin, ``basti@1.7.3``, installed into the cache (``compat.install.npm``).
    npm: str | None = None
    #: A program looked up on PATH (or an absolute path).
    binary: str | None = None
    #: An environment variable naming the program's path; it wins over PATH when set.
    path_env: str | None = None
    #: Arguments to the program whose output must match ``version_match`` (AWS CLI v2 vs v1).
    version_args: tuple[str, ...] = ()
    #: Regular expression searched in the ``version_args`` output.
    version_match: str | None = None
    #: Why the kit cannot drive this tool (a TUI only, a plugin copy of its own): every cell
    #: is ``skipped`` with this reason, whatever is installed.
    unavailable: str | None = None
    #: Shown with ``skipped`` when missing, e.g. ``apt-get install awscli``.
    hint: str | None = None

    def version_matches(self, output: str) -> bool:
        """Whether ``version_match`` is found in ``output`` (always, without a pattern).

        Raises:
            TimeoutError: the search took longer than :data:`VERSION_MATCH_TIMEOUT`.
        """
        if not self.version_match:
            return True
        found = regex.search(
            self.version_match, output, regex.MULTILINE, timeout=VERSION_MATCH_TIMEOUT
        )
        return found is not None


@dataclass(frozen=True)
class Target:
    """How a replay builds argv[5] (``{target_json}``)."""

    #: Template of the ``Target`` string, e.g. ``ecs:{cluster}_{task_id}_{runtime_id}``.
    value: Text
    format: TargetFormat
    #: ``DocumentName``, when the release passes one (port forwarding).
    document: str | None = None
    #: ``Parameters`` (name -> values, each a template), when the release passes them.
    parameters: Mapping[str, tuple[Text, ...]] | None = None


@dataclass(frozen=True)
class Launch:
    """How one variant starts one kind of session: a command (run) or an argv (replay)."""

    session: SessionKind
    #: ``run``: the tool's command line (argv[0] is the program).
    command: Argv | None = None
    #: ``replay``: the plugin argv the release builds (argv[0] as the release spelled it; the
    #: runner substitutes the cell's plugin).
    argv: Argv | None = None
    source: Citation | None = None
    #: ``replay``: API calls the release makes before starting the plugin, in order.
    calls: tuple[ApiCall, ...] = ()
    session_format: SessionFormat | None = None
    target: Target | None = None
    #: Extra environment (templates): for ``run``, the tool's; for ``replay``, the plugin's
    #: (env-var response mode: ``AWS_SSM_START_SESSION_RESPONSE = "{session_json}"``).
    env: Mapping[str, Text] = field(default_factory=dict)

    @property
    def template(self) -> Argv:
        """The command (run) or the argv (replay)."""
        template = self.command if self.command is not None else self.argv
        assert template is not None
        return template

    def uses(self, name: str) -> bool:
        """Whether ``{name}`` appears in the argv/command, the target or the env."""
        texts: list[Text] = list(self.env.values())
        if self.target is not None:
            texts.append(self.target.value)
            for values in (self.target.parameters or {}).values():
                texts.extend(values)
        parts = placeholders(self.template) + placeholders(tuple(texts))
        return any(p.name == name for p in parts)


@dataclass(frozen=True)
class Variant:
    """One release (or the installed copy) of a tool, driven one way."""

    #: Unique within the tool; the second segment of a cell id.
    id: str
    #: The version label shown in the matrix.
    version: str
    mode: Mode
    kind: Kind
    launches: Mapping[SessionKind, Launch]
    reach: Reach = "endpoint"
    #: The tool needs a terminal (the runner gives it a pty).
    tty: bool = False
    requires: Requirement | None = None
    #: Files written before the run (templates): ``~/…`` under the cell's HOME, other paths
    #: under its working directory.
    files: Mapping[str, Text] = field(default_factory=dict)
    #: The only cluster name the tool finds tasks in (copilot ``task exec --default``).
    cluster: str | None = None
    #: Tags the tool looks for on the task (copilot lists only tasks tagged ``copilot-task``).
    task_tags: Mapping[str, str] = field(default_factory=dict)
    #: Tags the seeded EC2 instance carries, for tools that find instances by tag (ssm-cli
    #: groups them by a tag it reads through GetResources and DescribeInstanceInformation).
    instance_tags: Mapping[str, str] = field(default_factory=dict)
    #: ``ecs-exec``: where the seeded task runs (``EC2``: on a registered container instance).
    launch_type: LaunchType = "FARGATE"
    #: A customer Session document the tool names in StartSession (ssm-ecs's ``RunCommand``):
    #: the kit creates it in the region as an ``InteractiveCommands`` document with a
    #: ``command`` parameter, its ``inputs.kmsKeyId`` the scenario's key.
    session_document: str | None = None
    #: How the user chooses a profile with this tool: its flag (the template uses
    #: ``{profile}``) or ``AWS_PROFILE``.
    profile_via: Literal["flag", "env"] = "env"
    #: How the user chooses a region: its flag (``{user_region}``) or ``AWS_REGION``.
    region_via: Literal["flag", "env"] = "env"
    #: Seconds before the runner kills the cell; ``None``: the runner's default.
    timeout: float | None = None
    notes: str = ""
    #: A container image the command runs in (``run`` only; ``compat/runner/container``); ``None``:
    #: the command runs on this machine.
    image: str | None = None

    def supports(self, session: SessionKind) -> bool:
        return session in self.launches

    @property
    def shell(self) -> Launch:
        return self.launches["shell"]

    @property
    def source(self) -> Citation | None:
        """The citation of the shell launch (replays), for reports; a variant that only
        forwards ports has no shell launch."""
        first = self.launches.get("shell") or next(iter(self.launches.values()), None)
        return first.source if first is not None else None


@dataclass(frozen=True)
class Adapter:
    """A caller tool and its variants, as one adapter file describes it."""

    name: str
    homepage: str
    kind: Kind
    variants: tuple[Variant, ...]
    description: str = ""
    #: The file it was loaded from (for error messages and reports).
    path: Path | None = None

    def variant(self, variant_id: str) -> Variant:
        for variant in self.variants:
            if variant.id == variant_id:
                return variant
        known = ", ".join(v.id for v in self.variants)
        raise KeyError(f"{self.name} has no variant {variant_id!r}; known: {known}")
