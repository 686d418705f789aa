"""Run one cell: seed the fake AWS, build the sandbox, run the tool or replay, judge it."""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compat.adapter.model import Launch
from compat.adapter.replay import ReplayError, replay
from compat.adapter.templating import MissingValueError, render_argv, render_text
from compat.evidence import (
    PLUGIN_HOSTS,
    collect,
    error_line,
    free_port,
    judge_setup,
    kms_demanded,
    seeded,
    shared_resource,
    shell_input,
)
from compat.evidence.keep import cell_masker, keep_evidence
from compat.evidence.names import cell_dirname
from compat.fakeaws import Credentials, FakeAWS
from compat.fakeaws.seed import Ec2Target, EcsTarget
from compat.launcher import Launcher
from compat.plan.cells import Cell
from compat.runner import process
from compat.runner.gate import KmsGate
from compat.runner.keystroke import enter_after_failed_resume
from compat.runner.process import Finished, LaterInput, PortProbe, run_process
from compat.runner.result import CellResult
from compat.runner.sandbox import (
    Sandbox,
    SandboxError,
    make_sandbox,
    scenario_aws_setup,
    write_files,
)
from compat.runner.toolenv import Missing, Resolved
from compat.verdict import reasons
from compat.verdict.agreement import argv_shape
from compat.verdict.reasons import Outcome
from compat.verdict.rules import judge, session_starts

__all__ = ["RunContext", "run_cell"]

#: What an interactive shell session types: a marker, then ``exit`` (issue 4 item 4).
SHELL_COMMAND = "/bin/sh"
REMOTE_PORT = "80"


@dataclass
class RunContext:
    """What every cell of one run shares."""

    fake: FakeAWS
    #: Scratch space for sandboxes (deleted after the run).
    work_dir: Path
    #: The report directory; evidence goes under ``evidence/``.
    out_dir: Path
    timeout: float = 60.0
    real_plugin: Path | None = None
    #: ``(tool, variant id)`` -> where its program is, or why it is missing (run variants).
    tools: Mapping[tuple[str, str], Resolved | Missing] = field(default_factory=dict)
    gate: KmsGate = field(default_factory=KmsGate)
    #: Keep the evidence of clean passes too (else only of failures, errors and warnings).
    keep_passing: bool = False
    #: The run's native plugin launcher (compat/launcher); None: the Python shim.
    launcher: Launcher | None = None


class _Phases:
    """Wall time per phase of a cell, each phase ending where the next begins."""

    def __init__(self, started: float) -> None:
        self.seconds: dict[str, float] = {}
        self._last = started

    def end(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._last
        self._last = now


def _result(cell: Cell, started: float, **fields: Any) -> CellResult:
    return CellResult(
        id=cell.id,
        tool=cell.adapter.name,
        variant=cell.variant.id,
        scenario=cell.scenario.name,
        release=cell.release,
        duration_s=time.monotonic() - started,
        **fields,
    )


def _reasoned(cell: Cell, started: float, code: str, detail: str) -> CellResult:
    reason = reasons.get(code)
    return _result(
        cell,
        started,
        outcome=reason.outcome,
        reason=code,
        explanation=reason.explanation,
        remedy=reason.remedy,
        detail=detail,
    )


def run_cell(cell: Cell, ctx: RunContext) -> CellResult:
    """The cell's result; never raises for a tool's or the kit's failure (``error`` then)."""
    started = time.monotonic()
    if cell.not_applicable is not None:
        return _reasoned(cell, started, cell.not_applicable, cell.not_applicable_detail)
    launch = cell.launch
    assert launch is not None
    resolved: Resolved | None = None
    if cell.variant.mode == "run":
        tool = ctx.tools.get((cell.adapter.name, cell.variant.id))
        if isinstance(tool, Missing):
            return _reasoned(cell, started, tool.code, tool.detail)
        if tool is None:
            return _reasoned(cell, started, "harness-error", "requirement was not resolved")
        resolved = tool
    phases = _Phases(started)
    try:
        with _seeded(cell, ctx) as target:
            phases.end("seed")
            return _run_seeded(cell, ctx, launch, target, resolved, started, phases)
    except Exception as exc:  # the kit's own fault: the matrix goes on
        return _reasoned(cell, started, "harness-error", f"{type(exc).__name__}: {exc}")
    finally:
        # Its evidence is copied out by now; removing it here, while the other workers run
        # tools, spares the run one long serial removal of every sandbox at its end.
        shutil.rmtree(_sandbox_root(cell, ctx), ignore_errors=True)


def _sandbox_root(cell: Cell, ctx: RunContext) -> Path:
    """Where the cell's sandbox is built (under the run's scratch space)."""
    return ctx.work_dir / cell_dirname(cell.id)


def gate_key(cell: Cell) -> tuple[str, ...] | None:
    """The shared resource a cell holds while it runs (gate.py), with its KMS setting."""
    if cell.not_applicable is not None:
        return None
    resource = shared_resource(
        cell.scenario, cell.variant.kind, cell.variant.cluster, cell.variant.session_document
    )
    if resource is None:
        return None
    return (*resource, "on" if kms_demanded(cell.scenario) else "off")


_TAG_LOCKS: dict[tuple[str, ...], threading.Lock] = {}
_TAG_LOCKS_LOCK = threading.Lock()


def _tag_lock(region: str, tags: Mapping[str, str]) -> threading.Lock:
    """One lock per region and set of instance tags: a tool that picks its instance by tag
    must find exactly one (ssm-cli opens a menu for two), so such cells take turns."""
    key = (region, *sorted(f"{k}={v}" for k, v in tags.items()))
    with _TAG_LOCKS_LOCK:
        return _TAG_LOCKS.setdefault(key, threading.Lock())


@contextlib.contextmanager
def _seeded(cell: Cell, ctx: RunContext) -> Iterator[EcsTarget | Ec2Target]:
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


def _values(
    cell: Cell, ctx: RunContext, target: EcsTarget | Ec2Target, sandbox: Sandbox, launch: Launch
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
    if scenario.user.session == "port-forward":
        values["local_port"] = str(free_port())
        values["remote_port"] = REMOTE_PORT
    return values


def _needs(cell: Cell, launch: Launch, name: str) -> bool:
    return launch.uses(name) or any(
        any(p.name == name for p in text.parts) for text in cell.variant.files.values()
    )


def _run_in_image(
    image: str,
    argv: list[str],
    env: dict[str, str],
    sandbox: Sandbox,
    work: Path,
    out: Path,
    err: Path,
    stdin_script: bytes,
    timeout: float,
    cell: Cell,
) -> Finished:
    """The tool inside its container image, the fake plugin relayed in (compat/runner/container)."""
    from compat.runner.container import run_in_container  # noqa: PLC0415 - docker SDK only if needed

    ran = run_in_container(
        image, argv, env, sandbox, stdin=stdin_script, timeout=timeout,
        tty=cell.variant.tty, cwd=work,
    )  # fmt: skip
    out.write_bytes(ran.stdout)
    err.write_bytes(ran.stderr)
    note = process.CUT_NOTE.format(cap=process.OUTPUT_CAP).encode()  # the engine's cap is alike
    cut = tuple(n for n, d in (("stdout", ran.stdout), ("stderr", ran.stderr)) if d.endswith(note))
    return Finished(ran.returncode, ran.timed_out, ran.duration_s, truncated=cut)


def _run_seeded(
    cell: Cell,
    ctx: RunContext,
    launch: Launch,
    target: EcsTarget | Ec2Target,
    resolved: Resolved | None,
    started: float,
    phases: _Phases,
) -> CellResult:
    fake = ctx.fake
    scenario = cell.scenario
    creds = Credentials.new()
    if scenario.seed.drop_websocket_once:
        fake.registry.drop_once.add(creds.access_key_id)
    root = _sandbox_root(cell, ctx)
    root.mkdir(parents=True)
    setup_env = scenario_aws_setup(
        fake.env(creds, region=scenario.sandbox.default_region),
        scenario,
        profile_via=cell.variant.profile_via,
        region_via=cell.variant.region_via,
    )
    release = None if ctx.real_plugin is not None else cell.release
    sandbox = make_sandbox(
        root,
        setup_env.env,
        release=release,
        real_plugin=ctx.real_plugin,
        tool_dirs=resolved.path_dirs if resolved is not None else (),
        aws_config=setup_env.config,
        aws_credentials=setup_env.credentials,
        launcher=ctx.launcher,
    )
    work = root / "work"
    work.mkdir()
    values = _values(cell, ctx, target, sandbox, launch)
    values.update(home=str(sandbox.home), workdir=str(work))
    marker = f"smp-compat-{creds.access_key_id[-8:].lower()}"
    stdin_script = b""
    probe: PortProbe | None = None
    if scenario.user.session == "shell":
        stdin_script = shell_input(marker)
    else:
        assert values["local_port"] is not None
        probe = PortProbe(int(values["local_port"]), marker.encode() + b"\n")
    env = dict(sandbox.env)
    calls: list[dict[str, Any]] = []
    executable: str | None = None
    try:
        if cell.variant.mode == "replay":
            clients = _client_factory(fake, creds, scenario.region)
            try:
                replayed = replay(launch, values, clients)
            except ReplayError as exc:
                return _reasoned(cell, started, "harness-error", f"replay call failed: {exc}")
            argv = replayed.argv
            env.update(replayed.env)
            calls = replayed.calls
            executable = str(sandbox.bin_dir / "session-manager-plugin")
        else:
            assert resolved is not None
            if cell.variant.reach == "endpoint":
                # The plugin's KMS (and SSM) clients ignore AWS_ENDPOINT_URL (docs/plugin.md §1.3):
                # only those hosts may go through the proxy; the tool's own must not.
                fake.proxy.set_allowed_hosts(PLUGIN_HOSTS, access_key_id=creds.access_key_id)
            argv = render_argv(launch.template, values)
            if resolved.image is None:
                argv[0] = str(resolved.program)
            elif probe is not None:
                # The forwarded port would listen inside the container's view of the host.
                return _reasoned(
                    cell, started, "unsupported-scenario", "port forwarding in a container"
                )
            files = {n: render_text(t, values) for n, t in cell.variant.files.items()}
            write_files(sandbox.home, work, files)
            env.update({n: render_text(t, values) for n, t in launch.env.items()})
    except MissingValueError as exc:
        return _reasoned(cell, started, "harness-error", f"the kit has no value for {exc}")
    except SandboxError as exc:
        return _reasoned(cell, started, "harness-error", str(exc))
    timeout = cell.variant.timeout or ctx.timeout
    if scenario.timeout_s is not None:
        timeout = min(timeout, scenario.timeout_s)
    out, err = root / "tool-stdout.txt", root / "tool-stderr.txt"
    phases.end("prepare")
    if resolved is not None and resolved.image is not None:
        finished = _run_in_image(
            resolved.image, argv, env, sandbox, work, out, err, stdin_script, timeout, cell
        )
    else:
        finished = run_process(
            argv,
            env=env,
            cwd=work,
            stdout=out,
            stderr=err,
            stdin_script=stdin_script,
            tty=cell.variant.tty,
            timeout=timeout,
            executable=executable,
            probe=probe,
            later_input=_later_input(cell, ctx, creds),
        )
    phases.end("tool")
    evidence = collect(
        fake,
        sandbox.record_file,
        creds.access_key_id,
        tool_exit=finished.exit_code,
        timed_out=finished.timed_out,
        port_roundtrip=finished.port_roundtrip,
        tool_stderr_tail=error_line(
            out.read_text(encoding="utf-8", errors="replace"),
            err.read_text(encoding="utf-8", errors="replace"),
        ),
        killed=finished.killed,
    )
    phases.end("collect")
    verdict = judge(evidence, judge_setup(scenario, fake))
    starts = session_starts(evidence.records)
    shape = (
        argv_shape(
            [str(a) for a in starts[-1].get("argv") or []],
            names=_ids(target),
            region=scenario.region,
            user_profile=scenario.user.profile,
            configured_endpoints=(fake.endpoint_url,),
        )
        if starts
        else None
    )
    # What varies between runs is masked, in the evidence and the detail (compat/evidence/keep).
    masker = cell_masker(
        {**values, **_ids(target)},
        extra={
            "access_key_id": creds.access_key_id,
            "secret_access_key": creds.secret_access_key,
            "marker": marker,
        },
        sandbox=root,
        work=ctx.work_dir,
        cluster_made_up=cell.variant.cluster is None,
        sessions=[*evidence.transcripts, *evidence.sessions],
    )
    paths: dict[str, str] = {}
    if verdict.outcome != Outcome.PASS or ctx.keep_passing:
        replayed_calls = calls if cell.variant.mode == "replay" else None
        paths = keep_evidence(
            ctx.out_dir, cell.id, masker, record=sandbox.record_file,
            transcripts=evidence.transcripts, calls=replayed_calls, argv=argv,
            stdout=out, stderr=err,
        )  # fmt: skip
    elif verdict.warnings:
        # Warnings come from argv alone: the plugin record is the whole evidence.
        paths = keep_evidence(ctx.out_dir, cell.id, masker, record=sandbox.record_file)
    phases.end("judge")
    return _result(
        cell,
        started,
        outcome=verdict.outcome,
        reason=verdict.reason,
        explanation=verdict.explanation,
        remedy=verdict.remedy,
        warnings=verdict.warnings,
        detail=masker.text(_noting_cuts(verdict.detail, finished.truncated)),
        evidence=paths,
        tool_duration_s=finished.duration_s,
        argv_shape=shape,
        phases=phases.seconds,
    )


def _noting_cuts(detail: str, truncated: tuple[str, ...]) -> str:
    """The verdict's detail, plus which of the tool's streams were cut at the cap: the
    evidence then holds only their beginning, and a reader must not take it for the whole."""
    if not truncated:
        return detail
    streams = " and ".join(truncated)
    note = f"the tool's {streams} was cut at {process.OUTPUT_CAP} bytes as it was written"
    return f"{detail}; {note}" if detail else note


def _later_input(cell: Cell, ctx: RunContext, creds: Credentials) -> LaterInput | None:
    """What the user types after the script: Enter when a dropped session hangs (keystroke.py)."""
    scenario = cell.scenario
    if not scenario.seed.drop_websocket_once or scenario.user.session != "shell":
        return None
    return enter_after_failed_resume(ctx.fake, creds.access_key_id, tty=cell.variant.tty)


def _ids(target: EcsTarget | Ec2Target) -> dict[str, str]:
    """The seeded ids an argv may hold, by placeholder name (``compat.verdict.agreement``)."""
    if isinstance(target, EcsTarget):
        ids = {
            "cluster": target.cluster_name,
            "cluster_arn": target.cluster_arn,
            "task_id": target.task_id,
            "task_arn": target.task_arn,
            "runtime_id": target.runtime_id,
        }
        if target.instance_id is not None:  # the task's EC2 host (ssm-ecs's Target)
            ids["instance_id"] = target.instance_id
        return ids
    return {"instance_id": target.instance_id}


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
