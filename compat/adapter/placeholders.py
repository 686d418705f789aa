"""The placeholder vocabulary of adapter templates: each name, what fills it, where it is allowed.

The runner fills these per cell from the seeded target (``EcsTarget``/``Ec2Target``), the
scenario (what the user chose), the sandbox and, in replays, the API calls the release made.
The loader uses the same table to reject unknown or misplaced names at load time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["API_CALLS", "PLACEHOLDERS", "ApiCall", "Kind", "Mode", "Placeholder"]

Kind = Literal["ecs-exec", "ssm-session"]
Mode = Literal["run", "replay"]
ApiCall = Literal[
    "ecs.ListTasks",
    "ecs.DescribeTasks",
    "ecs.ExecuteCommand",
    "ecs.DiscoverPollEndpoint",
    "ssm.StartSession",
    "ec2.DescribeInstances",
]

#: API calls a replay can declare, with the reason a release makes them.
API_CALLS: Mapping[ApiCall, str] = {
    "ecs.ListTasks": "find the task when only a service or family is known",
    "ecs.DescribeTasks": "read the container runtimeId for the ecs:<cluster>_<task>_<runtimeId> "
    "target",
    "ecs.ExecuteCommand": "start an ECS Exec session (its `session` is argv[1])",
    "ecs.DiscoverPollEndpoint": "the ECS agent endpoint ecsta <= 0.6.1 passes as argv[6]",
    "ssm.StartSession": "start an SSM session (the response is argv[1])",
    "ec2.DescribeInstances": "resolve an instance name or tag to an instance id",
}

_BOTH: frozenset[Kind] = frozenset({"ecs-exec", "ssm-session"})
_ECS: frozenset[Kind] = frozenset({"ecs-exec"})
_SSM: frozenset[Kind] = frozenset({"ssm-session"})
_ANY_MODE: frozenset[Mode] = frozenset({"run", "replay"})
_REPLAY: frozenset[Mode] = frozenset({"replay"})
_SESSION_CALLS: frozenset[ApiCall] = frozenset({"ecs.ExecuteCommand", "ssm.StartSession"})


@dataclass(frozen=True)
class Placeholder:
    """One name usable as ``{name}`` in an adapter template."""

    name: str
    description: str
    kinds: frozenset[Kind] = _BOTH
    modes: frozenset[Mode] = _ANY_MODE
    #: May be unset in a cell: only inside an optional group, or written ``{name?}``.
    optional: bool = False
    #: Only set when the cell starts a port-forwarding session.
    port_forward_only: bool = False
    #: In a replay, one of these calls must be declared for the value to exist.
    produced_by: frozenset[ApiCall] = frozenset()


def _table(*items: Placeholder) -> Mapping[str, Placeholder]:
    return {p.name: p for p in items}


#: Every placeholder, in the order adapters/README.md documents them.
PLACEHOLDERS: Mapping[str, Placeholder] = _table(
    Placeholder("cluster", "ECS cluster name", _ECS),
    Placeholder("cluster_arn", "ECS cluster ARN", _ECS),
    Placeholder("service", "ECS service the task belongs to", _ECS),
    Placeholder("task_family", "task definition family of the task", _ECS),
    Placeholder("task_id", "ECS task id (last segment of the task ARN)", _ECS),
    Placeholder("task_arn", "ECS task ARN", _ECS),
    Placeholder("container", "container name", _ECS),
    Placeholder(
        "runtime_id",
        "the container's runtimeId (a replay must declare ecs.DescribeTasks)",
        _ECS,
        produced_by=frozenset({"ecs.DescribeTasks"}),
    ),
    Placeholder("instance_id", "EC2 instance id", _SSM),
    Placeholder(
        "ssm_target",
        "the target SSM knows: ecs:<cluster>_<taskId>_<runtimeId>, or the instance id",
    ),
    Placeholder("command", "the command to run in the session"),
    Placeholder("region", "the region the session runs in (always set)"),
    Placeholder(
        "user_region",
        "the region the user chose explicitly (kms-region); unset otherwise",
        optional=True,
    ),
    Placeholder(
        "profile",
        "the named profile the user chose (kms-profile); unset otherwise",
        optional=True,
    ),
    Placeholder("local_port", "local port to listen on", port_forward_only=True),
    Placeholder("remote_port", "port in the container / on the instance", port_forward_only=True),
    Placeholder("home", "the cell's HOME directory (absolute path)"),
    Placeholder("workdir", "the cell's working directory, where the tool starts (absolute path)"),
    Placeholder("endpoint_url", "the fake AWS endpoint URL (for --endpoint-url)"),
    Placeholder("plugin", "path of the cell's session-manager-plugin (for --plugin flags)"),
    Placeholder(
        "ecs_endpoint", "the regional ECS URL an SDK resolves: https://ecs.<region>.amazonaws.com"
    ),
    Placeholder(
        "ssm_endpoint", "the regional SSM URL an SDK resolves: https://ssm.<region>.amazonaws.com"
    ),
    Placeholder(
        "session_json",
        "the session the release got, serialised as its `session` format says",
        modes=_REPLAY,
        produced_by=_SESSION_CALLS,
    ),
    Placeholder(
        "session_id",
        "the session id from that session",
        modes=_REPLAY,
        produced_by=_SESSION_CALLS,
    ),
    Placeholder(
        "target_json",
        "the StartSession parameters JSON built from `target` in `target_format`",
        modes=_REPLAY,
    ),
    Placeholder(
        "poll_endpoint",
        "the endpoint ecs.DiscoverPollEndpoint returned for the cluster",
        _ECS,
        _REPLAY,
        produced_by=frozenset({"ecs.DiscoverPollEndpoint"}),
    ),
)
