"""The prepare stage of a cell: its target seeded, its sandbox built, its command made.

Seeding holds what the cell shares with others for its whole run (``compat/runner/gate.py``,
and one instance tag set at a time); the sandbox, keys and input are built as the pytest
harness builds them (``compat.evidence.session_keys``, ``compat.runner.sandbox.scenario_sandbox``,
``compat.runner.session``); the values fill the adapter's templates.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from compat.evidence import seeded, session_keys, session_marker
from compat.evidence.names import cell_dirname
from compat.fakeaws import Credentials
from compat.fakeaws.seed import Ec2Target, EcsTarget
from compat.runner.command import Command, tool_command
from compat.runner.sandbox import Sandbox, scenario_sandbox
from compat.runner.session import ToolInput, local_port, tool_input

if TYPE_CHECKING:
    from compat.adapter.model import Launch
    from compat.plan.cells import Cell
    from compat.runner.context import RunContext
    from compat.runner.toolenv import Resolved

__all__ = ["Prepared", "prepare", "sandbox_root", "seeded_target"]

#: The shell a session opens (``{command}``); the user then types a marker and ``exit``.
SHELL_COMMAND = "/bin/sh"
REMOTE_PORT = "80"


@dataclass(frozen=True)
class Prepared:
    """Everything a cell's tool needs to run, and what its evidence is masked and kept by."""

    target: EcsTarget | Ec2Target
    creds: Credentials
    marker: str
    sandbox: Sandbox
    #: The tool's working directory inside the sandbox.
    work: Path
    #: The template values (``compat.adapter.placeholders``).
    values: dict[str, str | None]
    command: Command
    input: ToolInput

    @property
    def stdout(self) -> Path:
        return self.sandbox.root / "tool-stdout.txt"

    @property
    def stderr(self) -> Path:
        return self.sandbox.root / "tool-stderr.txt"


def sandbox_root(cell: Cell, ctx: RunContext) -> Path:
    """Where the cell's sandbox is built (under the run's scratch space)."""
    return ctx.work_dir / cell_dirname(cell.id)


_TAG_LOCKS: dict[tuple[str, ...], threading.Lock] = {}
_TAG_LOCKS_LOCK = threading.Lock()


def _tag_lock(region: str, tags: Mapping[str, str]) -> threading.Lock:
    """One lock per region and set of instance tags: a tool that picks its instance by tag
    must find exactly one (ssm-cli opens a menu for two), so such cells take turns."""
    key = (region, *sorted(f"{k}={v}" for k, v in tags.items()))
    with _TAG_LOCKS_LOCK:
        return _TAG_LOCKS.setdefault(key, threading.Lock())


@contextlib.contextmanager
def seeded_target(cell: Cell, ctx: RunContext) -> Iterator[EcsTarget | Ec2Target]:
    """Seed the cell's target; shared resources are held for the whole cell (gate.py)."""
    variant = cell.variant
    tags = variant.task_tags if variant.kind == "ecs-exec" else variant.instance_tags
    turn: contextlib.AbstractContextManager[object] = (
        _tag_lock(cell.scenario.seed.region, tags)
        if variant.kind == "ssm-session" and tags
        else contextlib.nullcontext()
    )
    with (
        turn,
        seeded(
            ctx.fake,
            cell.scenario,
            variant.kind,
            cluster=variant.cluster,
            tags=tags,
            hold=ctx.gate.hold,
            launch_type=variant.launch_type,
            document=variant.session_document,
        ) as target,
    ):
        yield target


def prepare(
    cell: Cell,
    ctx: RunContext,
    launch: Launch,
    target: EcsTarget | Ec2Target,
    resolved: Resolved | None,
) -> Prepared:
    """The cell's keys, sandbox, values, command and input, around a seeded ``target``.

    Raises:
        compat.runner.errors.CellRefused: the command cannot be made (see ``tool_command``).
    """
    variant = cell.variant
    plugin_only = variant.mode == "run" and variant.reach == "endpoint"
    # The plugin's KMS (and SSM) clients ignore AWS_ENDPOINT_URL (docs/plugin.md §1.3): only
    # those hosts may go through the proxy; the tool's own must not.
    creds = session_keys(ctx.fake, cell.scenario, plugin_only=plugin_only)
    root = sandbox_root(cell, ctx)
    root.mkdir(parents=True)
    sandbox = scenario_sandbox(
        root,
        ctx.fake,
        creds,
        cell.scenario,
        profile_via=variant.profile_via,
        region_via=variant.region_via,
        release=None if ctx.real_plugin is not None else cell.release,
        real_plugin=ctx.real_plugin,
        tool_dirs=resolved.path_dirs if resolved is not None else (),
        launcher=ctx.launcher,
    )
    work = root / "work"
    work.mkdir()
    port = local_port(cell.scenario)
    values = _values(cell, ctx, launch, target, sandbox, port)
    values.update(home=str(sandbox.home), workdir=str(work))
    command = tool_command(cell, launch, ctx.fake, creds, sandbox, work, values, resolved)
    marker = session_marker(creds)
    return Prepared(target, creds, marker, sandbox, work, values, command, tool_input(marker, port))


def _values(
    cell: Cell,
    ctx: RunContext,
    launch: Launch,
    target: EcsTarget | Ec2Target,
    sandbox: Sandbox,
    port: int | None,
) -> dict[str, str | None]:
    scenario = cell.scenario
    region = scenario.region
    values: dict[str, str | None] = {
        "command": SHELL_COMMAND,
        "region": region,
        "user_region": scenario.user.region,
        "profile": scenario.user.profile,
        "endpoint_url": ctx.fake.endpoint_url,
        "plugin": str(sandbox.bin_dir / "session-manager-plugin"),
        "ecs_endpoint": f"https://ecs.{region}.amazonaws.com",
        "ssm_endpoint": f"https://ssm.{region}.amazonaws.com",
        "ssm_target": target.ssm_target,
    }
    if isinstance(target, EcsTarget):
        values.update(
            cluster=target.cluster_name,
            cluster_arn=target.cluster_arn,
            task_id=target.task_id,
            task_arn=target.task_arn,
            container=target.container_name,
        )
        if cell.variant.mode == "run":
            values["runtime_id"] = target.runtime_id
        family = target.task_family
        values["task_family"] = family
        if _needs(cell, launch, "service"):
            name = f"svc-{target.task_id[:12]}"
            ctx.fake.client("ecs", target.region).create_service(
                cluster=target.cluster_name, serviceName=name, taskDefinition=family, desiredCount=0
            )
            values["service"] = name
    else:
        values["instance_id"] = target.instance_id
    if port is not None:
        values["local_port"] = str(port)
        values["remote_port"] = REMOTE_PORT
    return values


def _needs(cell: Cell, launch: Launch, name: str) -> bool:
    return launch.uses(name) or any(
        any(p.name == name for p in text.parts) for text in cell.variant.files.values()
    )
