"""Running the fake plugin in-process (fast) and as a process (real fds), for the tests."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from fake_plugin import program
from fake_plugin.console import Console

GOLDEN = Path(__file__).parent / "golden"
#: The releases the issue asks to check row by row (docs/plugin.md §5).
MAIN_RELEASES = ("1.2.234.0", "1.2.497.0", "1.2.536.0", "1.2.677.0")
ENV_PREFIX = "AWS_SSM_START_SESSION_RESPONSE"


def golden(release: str) -> dict[str, object]:
    return json.loads((GOLDEN / f"{release}.json").read_text(encoding="utf-8"))


def golden_rows(releases: tuple[str, ...] | None = None) -> list[tuple[str, dict[str, object]]]:
    names = releases or tuple(sorted(p.stem for p in GOLDEN.glob("*.json")))
    return [(r, row) for r in names for row in golden(r)["rows"]]  # type: ignore[union-attr]


def run_inprocess(args: list[str], release: str, **kwargs: object) -> tuple[int, Console]:
    console = Console(echo=False)
    code = program.main(
        ["session-manager-plugin", *args], release=release, console=console, **kwargs
    )  # type: ignore[arg-type]
    return code, console


def clean_env(base: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in base.items() if not k.startswith((ENV_PREFIX, "SMP_COMPAT_"))}
    env.update(extra)
    return env


def run_until_starting(cmd: list[str], env: dict[str, str], timeout: float = 10.0) -> bytes:
    """Start the plugin, read stdout until the ``Starting session`` line, then kill it."""
    proc = subprocess.Popen(
        cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while b"SessionId: " not in data or not data.endswith(b"\n") or data.count(b"\n") < 2:
            if time.monotonic() > deadline:
                break
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            data += chunk
    finally:
        proc.kill()
        proc.communicate()
    return data
