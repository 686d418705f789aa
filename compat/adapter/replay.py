"""Replay variants: make the release's API calls, then build the plugin argv it would build.

The calls go through boto3 to the fake AWS, signed with the cell's own keys, so the session the
plugin receives is a real one the fake agent knows and attributes to the cell; the argv is the
adapter's template rendered with what those calls returned (adapters/README.md "replay").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from compat.adapter.errors import ReplayError
from compat.adapter.formats import SessionFields, session_json, target_json
from compat.adapter.model import Launch
from compat.adapter.templating import render_argv, render_text

__all__ = ["Replayed", "replay"]

#: ``service -> boto3 client`` in the cell's region, with the cell's keys.
ClientFactory = Callable[[str], Any]


@dataclass
class Replayed:
    """The plugin argv and environment, and what each call returned (for the evidence)."""

    argv: list[str]
    env: dict[str, str]
    values: dict[str, str | None]
    calls: list[dict[str, Any]] = field(default_factory=list)


def _runtime_id(response: Mapping[str, Any], container: str | None) -> str | None:
    for task in response.get("tasks", []):
        for entry in task.get("containers", []):
            if container is None or entry.get("name") == container:
                value = entry.get("runtimeId")
                return str(value) if value is not None else None
    return None


def replay(launch: Launch, values: Mapping[str, str | None], clients: ClientFactory) -> Replayed:
    """Run ``launch.calls`` in order, then render the plugin argv and env.

    Raises:
        ReplayError: a call failed (the cell is an ``error`` of the kit, not of the tool).
    """
    filled: dict[str, str | None] = dict(values)
    log: list[dict[str, Any]] = []
    session: SessionFields | None = None
    metadata: Mapping[str, Any] | None = None
    for call in launch.calls:
        try:
            result = _call(call, filled, clients, launch)
        except ReplayError:
            raise
        except Exception as exc:  # botocore errors: the fake AWS refused the release's call
            raise ReplayError(f"{call}: {type(exc).__name__}: {exc}") from exc
        log.append({"call": call, "ok": True})
        if call == "ecs.DescribeTasks":
            runtime = _runtime_id(result, filled.get("container"))
            if runtime is not None:
                filled["runtime_id"] = runtime
        elif call == "ecs.ExecuteCommand":
            raw = result["session"]
            session = SessionFields(raw["sessionId"], raw["streamUrl"], raw["tokenValue"])
        elif call == "ssm.StartSession":
            session = SessionFields(result["SessionId"], result["StreamUrl"], result["TokenValue"])
            metadata = result.get("ResponseMetadata")
        elif call == "ecs.DiscoverPollEndpoint":
            filled["poll_endpoint"] = str(result["endpoint"])
    if session is not None:
        fmt = launch.session_format or "go"
        filled["session_json"] = session_json(fmt, session, metadata)
        filled["session_id"] = session.session_id
        log.append({"session_id": session.session_id})
    if launch.target is not None:
        target = render_text(launch.target.value, filled)
        parameters = None
        if launch.target.parameters is not None:
            parameters = {
                name: [render_text(v, filled) for v in texts]
                for name, texts in launch.target.parameters.items()
            }
        filled["target_json"] = target_json(
            launch.target.format, target, launch.target.document, parameters
        )
    assert launch.argv is not None
    argv = render_argv(launch.argv, filled)
    env = {name: render_text(text, filled) for name, text in launch.env.items()}
    return Replayed(argv=argv, env=env, values=filled, calls=log)


def _call(
    call: str, values: Mapping[str, str | None], clients: ClientFactory, launch: Launch
) -> Any:
    cluster = values.get("cluster")
    if call == "ecs.ListTasks":
        return clients("ecs").list_tasks(cluster=cluster)
    if call == "ecs.DescribeTasks":
        return clients("ecs").describe_tasks(cluster=cluster, tasks=[values["task_arn"]])
    if call == "ecs.ExecuteCommand":
        return clients("ecs").execute_command(
            cluster=cluster,
            task=values["task_arn"],
            container=values["container"],
            interactive=True,
            command=values["command"],
        )
    if call == "ecs.DiscoverPollEndpoint":
        return clients("ecs").discover_poll_endpoint(cluster=cluster)
    if call == "ec2.DescribeInstances":
        return clients("ec2").describe_instances(InstanceIds=[values["instance_id"]])
    if call == "ssm.StartSession":
        kwargs: dict[str, Any] = {"Target": values.get("ssm_target") or values["instance_id"]}
        if launch.target is not None and launch.target.document is not None:
            kwargs["DocumentName"] = launch.target.document
            if launch.target.parameters is not None:
                kwargs["Parameters"] = {
                    name: [render_text(v, values) for v in texts]
                    for name, texts in launch.target.parameters.items()
                }
        return clients("ssm").start_session(**kwargs)
    raise ReplayError(f"{call}: not a call a replay can make")
