"""The launch stage of a cell: its tool run to its end, on this machine or in its image.

On this machine the tool runs jailed (``compat/runner/process.py``), with the user's input
and, after a dropped shell session, the Enter a user would press (``keystroke.py``); in an
image it runs through the container engine with the fake plugin relayed in
(``compat/runner/container``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compat.runner import process
from compat.runner.keystroke import enter_after_failed_resume
from compat.runner.process import Finished, LaterInput, run_process
from compat.runner.session import time_limit

if TYPE_CHECKING:
    from compat.fakeaws import Credentials
    from compat.plan.cells import Cell
    from compat.runner.context import RunContext
    from compat.runner.prepare import Prepared
    from compat.runner.toolenv import Resolved

__all__ = ["launch"]


def launch(cell: Cell, ctx: RunContext, prepared: Prepared, resolved: Resolved | None) -> Finished:
    """Run the prepared command; its output goes to ``prepared.stdout`` and ``.stderr``."""
    timeout = time_limit(cell.variant.timeout or ctx.timeout, cell.scenario)
    if resolved is not None and resolved.image is not None:
        return _run_in_image(resolved.image, cell, prepared, timeout)
    command = prepared.command
    return run_process(
        command.argv,
        env=command.env,
        cwd=prepared.work,
        stdout=prepared.stdout,
        stderr=prepared.stderr,
        stdin_script=prepared.input.stdin_script,
        tty=cell.variant.tty,
        timeout=timeout,
        executable=command.executable,
        probe=prepared.input.probe,
        later_input=_later_input(cell, ctx, prepared.creds),
    )


def _run_in_image(image: str, cell: Cell, prepared: Prepared, timeout: float) -> Finished:
    """The tool inside its container image, the fake plugin relayed in (compat/runner/container)."""
    from compat.runner.container import run_in_container  # noqa: PLC0415 - docker SDK only if needed

    command = prepared.command
    ran = run_in_container(
        image, command.argv, command.env, prepared.sandbox, stdin=prepared.input.stdin_script,
        timeout=timeout, tty=cell.variant.tty, cwd=prepared.work,
    )  # fmt: skip
    prepared.stdout.write_bytes(ran.stdout)
    prepared.stderr.write_bytes(ran.stderr)
    note = process.CUT_NOTE.format(cap=process.OUTPUT_CAP).encode()  # the engine's cap is alike
    cut = tuple(n for n, d in (("stdout", ran.stdout), ("stderr", ran.stderr)) if d.endswith(note))
    outside = None  # neither the tool nor the kit ended it: the exit status says nothing
    if ran.why_ended and not ran.timed_out:
        outside = f"the tool's container ended from outside: {ran.why_ended}"
    return Finished(
        ran.returncode, ran.timed_out, ran.duration_s, truncated=cut, harness_error=outside
    )


def _later_input(cell: Cell, ctx: RunContext, creds: Credentials) -> LaterInput | None:
    """What the user types after the script: Enter when a dropped session hangs (keystroke.py)."""
    scenario = cell.scenario
    if not scenario.seed.drop_websocket_once or scenario.user.session != "shell":
        return None
    return enter_after_failed_resume(ctx.fake, creds.access_key_id, tty=cell.variant.tty)
