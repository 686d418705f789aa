"""Build a Go caller tool from the Go module proxy, once, into the kit's cache.

ecspresso, ecsk, ecsta and copilot are Go modules: any tagged release builds from the module
proxy (https://go.dev/ref/mod#goproxy-protocol). The kit builds ``<package>@<version>`` into
``<root>/<package>@<version>/bin/<name>`` and reuses it afterwards. It resolves the release the
way ``go install <package>@<version>`` does (the module's own ``go.mod`` requirements, its
``replace`` directives ignored), but through ``go get`` in a throw-away main module, because
``go install`` also fetches the module's version list to look for a deprecation and a proxy
that serves a version without its list would refuse the whole build.

``go`` runs with a clean environment: the kit's AWS variables never reach it, its module and
build caches live under ``<root>/.go``, and only the user's Go settings (``GOPROXY``,
``GONOSUMDB``, …) and network proxy pass through. Two runs at once never build one tool twice:
a file lock guards each build directory, as ``compat.runner.toolenv`` does for pip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from compat.install.errors import GoBuildError, InstallRefused
from compat.install.once import Once, Pin
from compat.isolation.jail import run_jailed

__all__ = ["GO_BUILD_TIMEOUT", "GoPackage", "build", "find_go", "go_env"]

#: Seconds one build (download and compile) may take; copilot-cli is the largest.
GO_BUILD_TIMEOUT = 1800.0
#: The user's Go and network settings a build honours; nothing else of the kit's environment
#: (above all no AWS_* variable) reaches ``go``.
PASSED_ENV = (
    "GOPROXY",
    "GONOPROXY",
    "GOPRIVATE",
    "GONOSUMDB",
    "GOSUMDB",
    "GOINSECURE",
    "GOTOOLCHAIN",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)
#: Where Go's own installer puts it (https://go.dev/doc/install), when ``go`` is not on PATH.
DEFAULT_GOROOT_BIN = Path("/usr/local/go/bin")
#: ``go`` progress chatter and ``# package`` headers, never the reason a build failed.
_NOISE_RE = re.compile(
    r"# |go: (downloading|finding|extracting|added|upgraded|downgraded|creating new go\.mod"
    r"|to add module requirements|warning:)"
)
_DONE = ".smp-compat-built"
#: A failed build's reason, kept so that a refusal is not asked again on every run.
_FAILED = ".smp-compat-failed"
#: ``reading <proxy URL>: `` in go's refusals: the URL is left out of the reason, since a
#: GOPROXY may carry credentials and the reason is published in the reports.
_READING_RE = re.compile(r"reading \S+://\S+: ")


class GoPackage(Pin):
    """A main package at a module version: ``github.com/kayac/ecspresso/cmd/ecspresso@v1.5.9``."""

    pattern = re.compile(r"(?P<name>[A-Za-z0-9][\w.~-]*(?:/[\w.~-]+)+)@(?P<version>v\d[\w.+-]*)")

    @property
    def path(self) -> str:
        """The package's import path (the pin's name)."""
        return self.name


def find_go() -> str | None:
    """The ``go`` command: on PATH, else where Go's installer puts it."""
    found = shutil.which("go")
    if found is None and os.access(DEFAULT_GOROOT_BIN / "go", os.X_OK):
        found = str(DEFAULT_GOROOT_BIN / "go")
    return found


def go_env(go: str, root: Path) -> dict[str, str]:
    """The whole environment ``go`` gets: its caches under ``root``, the user's Go settings."""
    env = {name: os.environ[name] for name in PASSED_ENV if os.environ.get(name)}
    cache = root / ".go"
    env.update(
        PATH=os.pathsep.join([str(Path(go).parent), os.environ.get("PATH") or os.defpath]),
        HOME=str(cache / "home"),
        GOPATH=str(cache / "path"),
        GOMODCACHE=str(cache / "mod"),
        GOCACHE=str(cache / "build"),
        # -modcacherw: a user can delete the cache with rm -rf.
        GOFLAGS="-mod=mod -modcacherw",
        CGO_ENABLED="0",
        GOENV="off",
        GOWORK="off",
        GOTELEMETRY="off",
    )
    return env


def first_error(output: str) -> str:
    """The first line of ``go``'s output that says what went wrong (and its indented next)."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if _NOISE_RE.match(line):
            continue
        more = lines[i + 1].strip() if i + 1 < len(lines) and lines[i + 1][:1] == "\t" else ""
        said = f"{line.strip()} {more}".strip() if more else line.strip()
        return _READING_RE.sub("the module proxy answered ", said)
    return "go gave no reason"


def build(spec: str, name: str, root: Path, *, install: bool = True) -> Path:
    """The built program ``name`` of ``spec``; built first unless the cache has it.

    Raises :class:`GoBuildError` when it cannot be had: no Go, installs disabled, a version
    the proxy does not serve, a compile error.
    """
    package = GoPackage.parse(spec)
    if package is None:
        raise GoBuildError(f"{spec!r} is not <package path>@v<version>")
    home = root / f"{package.path}@{package.version}"
    program = home / "bin" / name
    entry = Once(
        ready=lambda: program if (home / _DONE).exists() and program.exists() else None,
        lock=home.parent / f"{home.name}.lock",
        failed=home / _FAILED,
        error=GoBuildError,
    )
    found = entry.reuse(allowed=install, disabled=f"{package} is not built (installs disabled)")
    if found is not None:
        return found
    go = find_go()
    if go is None:
        raise GoBuildError(
            f"building {package} needs Go (https://go.dev/doc/install): no go on PATH"
        )
    home.mkdir(parents=True, exist_ok=True)

    def make() -> None:
        _compile(go, package, program, go_env(go, root))
        (home / _DONE).write_text(f"{package}\n", encoding="utf-8")

    return entry.build(
        make,
        starting=f"building {package} with {go} (once; cached in {home})",
        done=f"built {package}",
    )


def _compile(go: str, package: GoPackage, program: Path, env: dict[str, str]) -> None:
    """``go get`` then ``go build`` in a throw-away main module; the binary lands atomically."""
    program.parent.mkdir(parents=True, exist_ok=True)
    partial = program.with_name(f".{program.name}.partial")
    with tempfile.TemporaryDirectory(prefix="smp-compat-gobuild-") as work:
        steps = [
            [go, "mod", "init", "smp-compat.invalid/build"],
            [go, "get", str(package)],
            [go, "build", "-trimpath", "-o", str(partial), package.path],
        ]
        deadline = time.monotonic() + GO_BUILD_TIMEOUT
        for step in steps:
            try:
                done = run_jailed(  # foreign code, jailed as a tool is (docs/isolation.md §2)
                    step,
                    cwd=work,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    timeout=max(1.0, deadline - time.monotonic()),
                )
            except subprocess.TimeoutExpired:
                raise GoBuildError(
                    f"building {package} took more than {GO_BUILD_TIMEOUT:.0f} s"
                ) from None
            except OSError as exc:
                raise GoBuildError(f"building {package}: {exc}") from None
            if done.returncode != 0:
                reason = first_error(done.stderr + done.stdout)
                raise InstallRefused(f"building {package} failed: {reason}")
    partial.replace(program)
