"""``smp-compat init``: tox env, adapter skeleton and workflow for the tool in this repository.

Exit status: 0 when every file is written or already up to date; 1 when a file was left alone
because the user changed it or init did not write it (each is named); 2 for bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "write tox.ini [testenv:compat], an adapter skeleton and a GitHub workflow for your tool"
#: The guess when no ``--tool-cmd`` is given: the shape most exec tools share.
GUESS = (
    "{program} exec --cluster {{cluster}} --task {{task_id}} --container {{container}} "
    "--profile {{profile}} --region {{user_region}} -- {{command}}"
)


ADAPTER_PATH = "smp-compat/{name}.toml"
#: Where init first put the adapter: a top-level directory, which broke flat-layout builds.
OLD_ADAPTER_PATH = "adapters/{name}.toml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The repository, what to call the tool, how it starts a session."""
    parser.add_argument(
        "--dir", type=Path, default=Path(), metavar="DIR", help="the repository (default: .)"
    )
    parser.add_argument("--name", help="the tool's name (default: from go.mod or pyproject.toml)")
    parser.add_argument(
        "--tool-cmd",
        metavar="CMD",
        help="how a user starts an exec with your tool, with placeholders, e.g. "
        "'mytool exec --cluster {cluster} --task {task_id} --container {container} "
        "--profile {profile} {command}' (adapters/README.md lists them)",
    )
    parser.add_argument(
        "--kind",
        choices=("ecs-exec", "ssm-session"),
        default="ecs-exec",
        help="ECS Exec tasks (default) or SSM sessions on EC2 instances",
    )
    parser.add_argument(
        "--adapter-path",
        default=ADAPTER_PATH,
        metavar="PATH",
        help="where the adapter goes, relative to DIR (default: smp-compat/{name}.toml, beside "
        "the reports: a directory no build backend takes for a Python package)",
    )


def main(args: argparse.Namespace) -> int:
    """Detect, render, validate the adapter, write what is ours, say what to run next."""
    from dataclasses import replace  # noqa: PLC0415

    from compat.adapter.load import load_adapter  # noqa: PLC0415
    from compat.errors import UserError  # noqa: PLC0415
    from compat.init import files  # noqa: PLC0415
    from compat.init.detect import Tool, adapter_name, detect  # noqa: PLC0415

    root: Path = args.dir
    if not root.is_dir():
        raise UserError(f"--dir {root}: not a directory")
    tool = detect(root)
    if args.name:
        name = adapter_name(args.name)
        base = tool or Tool(name, args.name, "other", "https://example.invalid/" + name)
        tool = replace(base, name=name)
    if tool is None:
        raise UserError(
            f"{root.resolve()}: no go.mod, pyproject.toml or setup.cfg names a tool; pass --name"
        )
    guessed = args.tool_cmd is None
    command = files.tool_command(args.tool_cmd or GUESS.format(program=tool.program))
    adapter_rel = args.adapter_path.format(name=tool.name)
    if Path(adapter_rel).is_absolute() or ".." in Path(adapter_rel).parts:
        raise UserError(f"--adapter-path {adapter_rel}: expected a path inside the repository")
    adapter_text = files.adapter_toml(tool, command, args.kind)
    adapter_path = root / adapter_rel
    load_adapter(adapter_path, adapter_text.encode())  # AdapterError: one line per problem
    tox_text = files.tox_section(tool, adapter_rel)
    workflow_path = root / ".github" / "workflows" / "smp-compat.yml"
    old_adapter = root / OLD_ADAPTER_PATH.format(name=tool.name)
    files.check_inside(root, [root / "tox.ini", adapter_path, workflow_path, old_adapter])
    changes = [
        files.write_tox(root / "tox.ini", tox_text),
        files.write_owned(adapter_path, adapter_text, "adapter"),
        files.write_owned(workflow_path, files.workflow(tool, adapter_rel), "GitHub workflow"),
    ]
    if args.adapter_path == ADAPTER_PATH:
        old = files.remove_owned(old_adapter, "old adapter", adapter_rel)
        changes += [old] if old else []
    print(f"tool: {tool.name} ({tool.found_in or 'from --name'})")
    for change in changes:
        shown = change.path.relative_to(root) if change.path.is_relative_to(root) else change.path
        why = f": {change.why}" if change.why else ""
        print(f"  {change.status:9} {shown} {change.what}{why}")
    if all(c.status == "unchanged" for c in changes):
        print("nothing to do: every file is as smp-compat init would write it")
    if guessed:
        print(f"check the guessed command in {adapter_rel} (or re-run with --tool-cmd)")
    print(f"next: tox -e compat   (then commit {files.REPORTS}/matrix.json as the baseline)")
    return 1 if any(c.status == "kept" for c in changes) else 0
