"""The tool's command for one cell: the adapter's template rendered, or a release's replay.

A run variant's argv, files and environment come from its templates filled with the cell's
values; a replay variant makes the release's API calls itself (``compat.adapter.replay``) and
starts the sandbox's plugin with the argv that release would give it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compat.adapter.errors import MissingValueError, ReplayError
from compat.adapter.replay import replay
from compat.adapter.templating import render_argv, render_text
from compat.runner.errors import CellRefused, SandboxError
from compat.runner.sandbox import Sandbox, write_files

if TYPE_CHECKING:
    from compat.adapter.model import Launch
    from compat.fakeaws import Credentials, FakeAWS
    from compat.plan.cells import Cell
    from compat.runner.toolenv import Resolved

__all__ = ["Command", "tool_command"]


@dataclass(frozen=True)
class Command:
    """What is started: argv, the whole environment, the file to run if not ``argv[0]``."""

    argv: list[str]
    env: dict[str, str]
    executable: str | None = None
    #: A replay's API calls (kept as evidence); ``None`` for a run variant.
    calls: list[dict[str, Any]] | None = None


def tool_command(
    cell: Cell,
    launch: Launch,
    fake: FakeAWS,
    creds: Credentials,
    sandbox: Sandbox,
    work: Path,
    values: dict[str, str | None],
    resolved: Resolved | None,
) -> Command:
    """The cell's command; adapter files are written into the sandbox on the way.

    Raises:
        CellRefused: a value, a file or a replayed call is missing or fails, or the scenario
            cannot run in the tool's container.
    """
    env = dict(sandbox.env)
    plugin = str(sandbox.bin_dir / "session-manager-plugin")
    try:
        if cell.variant.mode == "replay":
            try:
                replayed = replay(
                    launch, values, _client_factory(fake, creds, cell.scenario.region)
                )
            except ReplayError as exc:
                raise CellRefused("harness-error", f"replay call failed: {exc}") from None
            env.update(replayed.env)
            return Command(replayed.argv, env, executable=plugin, calls=replayed.calls)
        assert resolved is not None
        argv = render_argv(launch.template, values)
        if resolved.image is None:
            argv[0] = str(resolved.program)
        elif cell.scenario.user.session == "port-forward":
            # The forwarded port would listen inside the container's view of the host.
            raise CellRefused("unsupported-scenario", "port forwarding in a container")
        files = {n: render_text(t, values) for n, t in cell.variant.files.items()}
        write_files(sandbox.home, work, files)
        env.update({n: render_text(t, values) for n, t in launch.env.items()})
    except MissingValueError as exc:
        raise CellRefused("harness-error", f"the kit has no value for {exc}") from None
    except SandboxError as exc:
        raise CellRefused("harness-error", str(exc)) from None
    return Command(argv, env)


_BOTOCORE: list[Any] = []
_BOTOCORE_LOCK = threading.Lock()


def _client_factory(fake: FakeAWS, creds: Credentials, region: str) -> Any:
    """boto3 clients signed with the cell's keys, so sessions are attributed to the cell.

    One botocore session for the whole run: its loader caches the service models, so a
    cell's client costs milliseconds instead of the ~100 ms of a fresh session.
    """
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    cache: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in cache:
            with _BOTOCORE_LOCK:
                if not _BOTOCORE:
                    _BOTOCORE.append(boto3.session.Session())
                cache[service] = _BOTOCORE[0].client(
                    service,
                    region_name=region,
                    endpoint_url=fake.endpoint_url,
                    aws_access_key_id=creds.access_key_id,
                    aws_secret_access_key=creds.secret_access_key,
                    config=Config(retries={"max_attempts": 1}, proxies={}),
                )
        return cache[service]

    return client
