"""The typed result of a valid StartSession command line: what the session client acts on.

``ValidateInputAndStartSession`` (``SMP:src/sessionmanagerplugin/session/session.go:121-217``)
turns argv into these fields; docs/plugin.md §1 and §1.3 say what each one drives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StartSessionResponse:
    """The three ``ssm.StartSessionOutput`` fields the plugin dereferences (session.go:200-202)."""

    session_id: str
    stream_url: str
    token_value: str


@dataclass(frozen=True)
class Invocation:
    """One valid ``StartSession`` start of the plugin, parsed as the real release parses it."""

    response: StartSessionResponse
    #: args[2]; may be "" (the SDK then falls back to AWS_REGION, AWS_DEFAULT_REGION, profile).
    region: str
    #: args[3]; always "StartSession" for a valid invocation (case-sensitive).
    operation: str
    #: args[4] or "" (absent). Non-empty: the KMS client loads this profile and skips env keys.
    profile: str
    #: ``args[5]["Target"]`` or "" when argv has fewer than 6 elements. Goes into the KMS
    #: encryption context as ``aws:ssm:TargetId``.
    target: str
    #: args[6] or "" (absent): the SSM endpoint, used only for ResumeSession/TerminateSession.
    endpoint: str
    #: ``IsAwsCliUpgradeNeeded``: argv had exactly 4 elements (session.go:157-161).
    legacy_cli: bool
    #: The ``AWS_SSM_START_SESSION_RESPONSE*`` variable the response was read from, if any.
    env_var_name: str | None = None
    #: args[5] as decoded (whatever JSON it held), for the record; the plugin reads only Target.
    parameters: Any = field(default=None)
