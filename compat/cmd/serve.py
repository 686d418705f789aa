"""``smp-compat serve``: run the fake AWS in the foreground for manual sessions."""

from __future__ import annotations

import argparse
import contextlib
import re
import shlex
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from compat.errors import UserError

if TYPE_CHECKING:
    from compat.fakeaws import FakeAWS

HELP = "Run the fake AWS (moto, proxy, fake SSM agent) on 127.0.0.1 until Ctrl-C."

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", default="eu-west-1", help="region to seed and export")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="seed an ECS task and an EC2 instance and print the commands to try",
    )
    parser.add_argument(
        "--kms", action="store_true", help="with --demo: encrypt the demo sessions with KMS"
    )
    parser.add_argument("--no-proxy", action="store_true", help="do not start proxy mode")
    parser.add_argument(
        "--transcript-dir", type=Path, help="where the fake agent writes session transcripts"
    )


def _validate(args: argparse.Namespace) -> None:
    if not _REGION.match(args.region):
        raise UserError(f"--region {args.region!r} is not a region name (e.g. eu-west-1)")
    if args.kms and not args.demo:
        raise UserError("--kms only applies to the demo resources; add --demo")
    directory: Path | None = args.transcript_dir
    if directory is not None and directory.exists() and not directory.is_dir():
        raise UserError(f"--transcript-dir {directory} exists and is not a directory")


def main(args: argparse.Namespace) -> int:
    _validate(args)
    from compat.fakeaws import FakeAWS  # noqa: PLC0415 - keep `smp-compat --help` fast
    from compat.fakeaws.errors import ProxyError  # noqa: PLC0415

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    fake = FakeAWS(region=args.region, proxy=not args.no_proxy, transcript_dir=args.transcript_dir)
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(_restore, previous)
        cleanup.callback(fake.stop)
        try:
            fake.start()
        except ProxyError as exc:
            raise UserError(f"{exc}") from None
        lines = _exports(fake)
        if args.demo:
            # Seeding takes seconds: done before anything is printed, so the exports, the
            # plugin's PATH and the commands arrive as one block, ready to paste.
            print("# seeding the demo resources…", file=sys.stderr, flush=True)
            bin_dir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="smp-serve-")))
            lines += _demo(fake, bin_dir, kms=args.kms)
        lines.append("# fake AWS is ready; Ctrl-C stops it")
        print("\n".join(lines), flush=True)
        stop.wait()
    print("# fake AWS stopped", file=sys.stderr, flush=True)
    return 0


def _restore(handlers: dict[signal.Signals, Any]) -> None:
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def _exports(fake: FakeAWS) -> list[str]:
    lines = ["# paste into a shell to point AWS tools at the fake AWS:"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in fake.env().items()]
    if fake.agent_url is None:
        lines.append("# note: the fake SSM agent is not installed; sessions will not connect")
    return lines


def _demo(fake: FakeAWS, bin_dir: Path, *, kms: bool) -> list[str]:
    """Seed the demo targets and write the fake plugin into ``bin_dir`` (what ``smp-compat
    shim DIR`` does): ``aws`` finds ``session-manager-plugin`` on PATH or refuses to start."""
    from compat.launcher.shim import write_shim  # noqa: PLC0415

    task = fake.seed_ecs_task(kms_key=kms)
    instance = fake.seed_ec2_instance(kms_key=kms)
    write_shim(bin_dir)
    return [
        "# the fake session-manager-plugin (removed when serve stops):",
        f'export PATH={shlex.quote(str(bin_dir))}:"$PATH"',
        "# demo resources" + (" (KMS-encrypted sessions):" if kms else ":"),
        "aws ecs execute-command --cluster "
        f"{shlex.quote(task.cluster_name)} --task {shlex.quote(task.task_arn)} "
        f"--container {shlex.quote(task.container_name)} --interactive --command /bin/sh",
        f"aws ssm start-session --target {shlex.quote(instance.instance_id)}",
        "# run them in a terminal: a session reads your keystrokes, and with stdin piped or",
        '# closed it ends at once ("Cannot perform start session: EOF")',
    ]
