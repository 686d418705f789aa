"""The scenario catalogue: the situations (matrix columns) every tool is tried in.

A scenario is data in three parts, so the runner can act on each without knowing its name:
what the fake AWS is seeded with, what the cell's sandbox holds (where the credentials and the
default region live), and what the user did (profile, region, kind of session). Which flag or
variable carries the user's choice is the adapter's business (``Variant.profile_via``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from compat.adapter.model import Kind, SessionKind
from compat.plan.errors import UnknownScenarioError
from fake_plugin.versions import MATRIX_RELEASES, NEWEST_RELEASE

__all__ = [
    "CATALOGUE",
    "DEFAULT_REGION",
    "DEFAULT_RELEASES",
    "OTHER_REGION",
    "PROFILE_NAME",
    "Sandbox",
    "Scenario",
    "Seed",
    "UserChoice",
    "get",
    "select",
]

#: Plugin releases every scenario runs against by default (the release registry's columns).
DEFAULT_RELEASES: tuple[str, ...] = MATRIX_RELEASES
DEFAULT_REGION = "us-east-1"
#: A region no tool would pick by default (eu-central-1 is aws-ssm-juggle's own default).
OTHER_REGION = "eu-west-1"
#: The named profile of ``kms-profile``.
PROFILE_NAME = "smp-compat-user"

#: Where a cell's credentials live.
Credentials = Literal["default-profile", "named-profile", "env"]
#: Where the sandbox's default region lives: the ``[default]`` section of the config file, the
#: ``AWS_REGION``/``AWS_DEFAULT_REGION`` variables, or nowhere.
RegionSource = Literal["config", "env", "none"]


@dataclass(frozen=True)
class Seed:
    """What the fake AWS holds for the cell's target."""

    #: A KMS key is configured, so the agent demands KMS encryption (never for port sessions).
    kms: bool
    #: Region the target (cluster/task or instance) and the key live in.
    region: str = DEFAULT_REGION
    #: The fake agent drops the session's websocket once, before the input that ends the
    #: shell; the plugin must resume through ResumeSession at argv[6] (fake_plugin/resume.py).
    drop_websocket_once: bool = False


@dataclass(frozen=True)
class Sandbox:
    """What the cell's HOME and environment hold before the tool starts."""

    credentials: Credentials = "default-profile"
    region_source: RegionSource = "config"
    #: The default region the sandbox advertises (config ``[default]`` or env).
    default_region: str = DEFAULT_REGION
    #: Name of the profile holding the credentials when ``credentials == "named-profile"``.
    profile_name: str | None = None


@dataclass(frozen=True)
class UserChoice:
    """What the user asked for on the command line (or, per the adapter, in the environment)."""

    #: Named profile chosen explicitly; ``None``: none chosen.
    profile: str | None = None
    #: Region chosen explicitly; ``None``: the sandbox default applies.
    region: str | None = None
    session: SessionKind = "shell"


@dataclass(frozen=True)
class Scenario:
    """One column of the matrix."""

    name: str
    title: str
    #: Why the column exists: the caller bug it catches.
    why: str
    seed: Seed
    sandbox: Sandbox
    user: UserChoice
    kinds: frozenset[Kind] = frozenset({"ecs-exec", "ssm-session"})
    releases: tuple[str, ...] = DEFAULT_RELEASES
    #: Caps the cell's timeout: where a failure is a silent hang (the plugin waits for input
    #: after a failed resume), waiting longer proves nothing more.
    timeout_s: float | None = None

    @property
    def region(self) -> str:
        """The region the session runs in (``{region}``)."""
        return self.user.region or self.sandbox.default_region


_SCENARIOS = (
    Scenario(
        name="shell",
        title="shell, no KMS",
        why="The baseline: any argv length works when the agent asks for no encryption.",
        seed=Seed(kms=False),
        sandbox=Sandbox(),
        user=UserChoice(),
    ),
    Scenario(
        name="kms",
        title="shell, KMS key configured",
        why="A 4-element argv is refused as an old CLI; a missing or wrong Target fails the "
        "data key (docs/plugin.md §2.1, §2.3).",
        seed=Seed(kms=True),
        sandbox=Sandbox(),
        user=UserChoice(),
    ),
    Scenario(
        name="kms-profile",
        title="KMS, credentials only in a named profile",
        why="The plugin's KMS client uses argv[4]; a tool that drops the chosen profile leaves "
        "it without credentials (docs/plugin.md §1.3).",
        seed=Seed(kms=True),
        sandbox=Sandbox(credentials="named-profile", profile_name=PROFILE_NAME),
        user=UserChoice(profile=PROFILE_NAME),
    ),
    Scenario(
        name="kms-env-credentials",
        title="KMS, credentials only in environment variables",
        why='A tool that passes "default" as argv[4] makes the plugin skip env credentials '
        "(docs/callers.md §0).",
        seed=Seed(kms=True),
        sandbox=Sandbox(credentials="env", region_source="env"),
        user=UserChoice(),
    ),
    Scenario(
        name="kms-region",
        title="KMS in a region chosen explicitly",
        why="argv[2] must carry the region the user chose, or KMS is asked in the wrong region.",
        seed=Seed(kms=True, region=OTHER_REGION),
        sandbox=Sandbox(),
        user=UserChoice(region=OTHER_REGION),
    ),
    Scenario(
        name="port-forward",
        title="port forwarding",
        why="A Port session with AWS-StartPortForwardingSession; n/a for tools without it.",
        seed=Seed(kms=False),
        sandbox=Sandbox(),
        user=UserChoice(session="port-forward"),
    ),
    Scenario(
        name="reconnect",
        title="shell, websocket dropped once",
        why="After a dropped data channel the plugin calls ResumeSession at argv[6]: only an "
        "SSM endpoint brings the session back; an ECS URL, a poll endpoint or a region leaves "
        "it hanging (aws/session-manager-plugin sessionhandler.go ResumeSessionHandler).",
        seed=Seed(kms=False, drop_websocket_once=True),
        sandbox=Sandbox(),
        user=UserChoice(),
        timeout_s=30.0,
        # The resume path is the same code in every release emulated and argv[6] is the
        # tool's, so one release proves it for all (verdict.settle_endpoint_warnings).
        releases=(NEWEST_RELEASE,),
    ),
)

#: Scenario name -> scenario, in column order.
CATALOGUE: Mapping[str, Scenario] = {s.name: s for s in _SCENARIOS}


def get(name: str) -> Scenario:
    """The scenario called ``name``, or :class:`UnknownScenarioError`."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UnknownScenarioError(name, CATALOGUE) from None


def select(patterns: Sequence[str] = ()) -> tuple[Scenario, ...]:
    """Scenarios matching any of ``patterns`` (names or globs), in catalogue order; all if none.

    A pattern that matches nothing is an error, so a typo never silently empties the matrix.
    """
    if not patterns:
        return tuple(CATALOGUE.values())
    for pattern in patterns:
        if not fnmatch.filter(CATALOGUE, pattern):
            raise UnknownScenarioError(pattern, CATALOGUE)
    return tuple(
        s for s in CATALOGUE.values() if any(fnmatch.fnmatchcase(s.name, p) for p in patterns)
    )
