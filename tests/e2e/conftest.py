"""End-to-end fixtures: real caller programs, the fake plugin via its shim, the fake AWS."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from compat.fakeaws import FakeAWS
from compat.runner.sandbox import Sandbox, make_sandbox


@dataclass(frozen=True)
class Ran:
    """A finished tool run."""

    returncode: int
    stdout: str
    stderr: str


def run_in(
    sandbox: Sandbox, argv: Sequence[str], *, stdin: bytes = b"", timeout: float = 60
) -> Ran:
    """Run ``argv`` with the sandbox's environment; stdin is a pipe that stays open until the
    process ends (at EOF a real plugin ends a shell session: docs/plugin.md §1)."""
    out, err = sandbox.root / "stdout", sandbox.root / "stderr"
    with out.open("wb") as out_f, err.open("wb") as err_f:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=out_f,
            stderr=err_f,
            env=sandbox.env,
            cwd=sandbox.root,
            start_new_session=True,
        )
        assert proc.stdin is not None
        if stdin:
            proc.stdin.write(stdin)
            proc.stdin.flush()
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"{argv[0]} did not finish in {timeout} s; stdout: {out.read_text()!r}")
        finally:
            proc.stdin.close()
    return Ran(code, out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def aws_cli() -> str:
    """The AWS CLI v1 from PyPI, installed beside this interpreter."""
    path = Path(sys.executable).parent / "aws"
    found = str(path) if path.exists() else shutil.which("aws")
    if not found:
        pytest.skip("AWS CLI v1 (PyPI awscli) is not installed in this environment")
    return found


MakeSandbox = Callable[..., Sandbox]


@pytest.fixture
def sandbox_for(fake_aws: FakeAWS, tmp_path: Path) -> MakeSandbox:
    """Build a sandbox with the fake plugin (a given release) on PATH and fake-AWS env."""
    counter = iter(range(1000))

    def make(release: str = "1.2.677.0", **kwargs: object) -> Sandbox:
        root = tmp_path / f"sandbox-{next(counter)}"
        env = kwargs.pop("env", None) or fake_aws.env()
        return make_sandbox(
            root,
            env,  # type: ignore[arg-type]
            release=release,
            tool_dirs=[Path(sys.executable).parent],
            **kwargs,  # type: ignore[arg-type]
        )

    return make
