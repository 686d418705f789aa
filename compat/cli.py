"""The ``smp-compat`` command line: one module per subcommand under ``compat/cmd/``."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Protocol

from compat.errors import UserError
from compat.isolation.kitenv import enter_clean

#: Subcommand name -> module under ``compat.cmd``. Each module has ``HELP``,
#: ``add_arguments(parser)`` and ``main(args) -> int``, and keeps heavy imports inside
#: ``main`` so that ``smp-compat --help`` stays fast.
COMMANDS: dict[str, str] = {
    "shim": "compat.cmd.shim",
    "serve": "compat.cmd.serve",
    "run": "compat.cmd.run",
    "report": "compat.cmd.report",
    "diff": "compat.cmd.diff",
    "merge": "compat.cmd.merge",
    "init": "compat.cmd.init",
}


class _Command(Protocol):
    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def main(self, args: argparse.Namespace) -> int: ...


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="smp-compat",
        description="Does your tool launch session-manager-plugin in a way that really works?",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module: _Command = importlib.import_module(module_name)
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        command.set_defaults(handler=module.main)
        module.add_arguments(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; user errors become one line on stderr and exit code 2."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except UserError as exc:
        print(f"smp-compat {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"smp-compat {args.command}: interrupted", file=sys.stderr)
        return 130


_STOPS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum: int, frame: object) -> None:
    """The first stop signal interrupts; later ones are ignored so that the cleanup it
    started (processes ended, temp dirs removed) is not cut short in turn."""
    for stop in _STOPS:
        signal.signal(stop, signal.SIG_IGN)
    raise KeyboardInterrupt(signal.Signals(signum).name)


def run() -> None:
    """Console-script entry point: first sheds every variable the kit does not need (a
    re-exec, so that not even ``/proc/<pid>/environ`` keeps a secret; compat/isolation/kitenv.py),
    then takes SIGTERM (a cancelled CI job) and SIGHUP like Ctrl-C: cells stopped, their
    processes and temp dirs gone, the previous report left as it was."""
    enter_clean()
    for stop in _STOPS:
        signal.signal(stop, _interrupt)
    raise SystemExit(main())
