"""``smp-compat serve``: run the fake AWS in the foreground for manual sessions."""

from __future__ import annotations

import argparse
import re
import shlex
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

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
    from compat.fakeaws.proxy import ProxyError  # noqa: PLC0415

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    fake = FakeAWS(region=args.region, proxy=not args.no_proxy, transcript_dir=args.transcript_dir)
    try:
        try:
            fake.start()
        except ProxyError as exc:
            raise UserError(f"{exc}") from None
        _print_exports(fake)
        if args.demo:
            _print_demo(fake, kms=args.kms)
        print("# fake AWS is ready; Ctrl-C stops it", flush=True)
        stop.wait()
    finally:
        fake.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("# fake AWS stopped", file=sys.stderr, flush=True)
    return 0


def _print_exports(fake: FakeAWS) -> None:
    print("# paste into a shell to point AWS tools at the fake AWS:")
    for name, value in fake.env().items():
        print(f"export {name}={shlex.quote(value)}")
    if fake.agent_url is None:
        print("# note: the fake SSM agent is not installed; sessions will not connect")


def _print_demo(fake: FakeAWS, *, kms: bool) -> None:
    task = fake.seed_ecs_task(kms_key=kms)
    instance = fake.seed_ec2_instance(kms_key=kms)
    print("# demo resources" + (" (KMS-encrypted sessions):" if kms else ":"))
    print(
        "aws ecs execute-command --cluster "
        f"{shlex.quote(task.cluster_name)} --task {shlex.quote(task.task_arn)} "
        f"--container {shlex.quote(task.container_name)} --interactive --command /bin/sh"
    )
    print(f"aws ssm start-session --target {shlex.quote(instance.instance_id)}")
