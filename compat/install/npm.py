"""Install a caller tool published on npm, once, into the kit's cache.

basti (https://github.com/basti-app/basti) is a Node program on npm. The kit installs an exact
pin, ``<name>@<version>``, with ``npm install --prefix`` into
``<root>/<name>@<version>/node_modules/.bin/<program>`` and reuses it afterwards.

- Install scripts are not run (``--ignore-scripts``): a caller is a plain Node program, and a
  package's scripts (a postinstall that downloads a binary) would run registry code with the
  kit's rights.
- Optional dependencies are left out (``--omit=optional``): basti's is a copy of AWS's plugin
  that it would start instead of the one on PATH, so the kit's fake would never be judged.
- The install lands in a scratch directory renamed into place, so a half-done one is never
  reused, and a file lock keeps two runs from installing it at once (``compat.install.once``).
- ``npm`` runs with a clean environment: its cache and HOME live under ``<root>/.npm``, only the
  user's npm and network settings pass through, and no AWS variable reaches it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from compat.install.errors import InstallRefused, NpmError
from compat.install.once import Once, Pin, publish, scratch
from compat.isolation.jail import run_jailed

__all__ = ["NPM_TIMEOUT", "NpmPackage", "first_error", "install", "npm_env"]

#: Seconds one ``npm install`` may take.
NPM_TIMEOUT = 600.0
#: The user's settings an install honours; nothing else of the kit's environment reaches npm.
PASSED_PREFIXES = ("NPM_CONFIG_", "npm_config_")
PASSED_ENV = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)
#: ``name@1.2.3`` or ``@scope/name@1.2.3``: an exact version, so a cached install never goes
#: stale (https://docs.npmjs.com/cli/v10/configuring-npm/package-json#name, semver).
PIN_RE = re.compile(
    r"(?P<name>(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*)"
    r"@(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)"
)
_DONE = ".smp-compat-installed"
_FAILED = ".smp-compat-failed"
#: A registry URL may carry credentials and the reason is published in reports.
_URL_RE = re.compile(r"\S+://\S+")


class NpmPackage(Pin):
    """An exact npm pin: ``basti@1.7.3``."""

    pattern = PIN_RE


def npm_env(npm: str, root: Path) -> dict[str, str]:
    """The whole environment ``npm`` gets: its cache under ``root``, the user's npm settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name in PASSED_ENV or name.startswith(PASSED_PREFIXES)
    }
    cache = root / ".npm"
    env.update(
        PATH=os.pathsep.join([str(Path(npm).parent), os.environ.get("PATH") or os.defpath]),
        HOME=str(cache / "home"),
        npm_config_cache=str(cache / "cache"),
        npm_config_update_notifier="false",
        npm_config_fund="false",
        npm_config_audit="false",
    )
    return env


def first_error(output: str) -> str:
    """npm's first line that says what went wrong (not ``npm error code E404``), URL-free."""
    for line in output.splitlines():
        said = re.sub(r"^npm (?:error|ERR!)\s*", "", line.strip())
        if said == line.strip() or not said or said.startswith(("code ", "A complete log")):
            continue
        return _URL_RE.sub("<registry>", said)
    return "npm gave no reason"


def install(spec: str, program: str, root: Path, *, allowed: bool = True) -> Path:
    """The installed ``program`` of ``spec``; installed first unless the cache has it.

    Raises :class:`NpmError` when it cannot be had: no npm, installs disabled, a package or
    version the registry does not serve, a package without that program.
    """
    package = NpmPackage.parse(spec)
    if package is None:
        raise NpmError(f"{spec!r} is not an exact pin <name>@<x.y.z>")
    home = root / str(package).replace("/", "+")
    found = home / "node_modules" / ".bin" / program
    entry = Once(
        ready=lambda: found if (home / _DONE).exists() and found.exists() else None,
        lock=root / f"{home.name}.lock",
        # Beside the entry, not in it: a new install starts by removing the entry.
        failed=root / f"{home.name}{_FAILED}",
        error=NpmError,
    )
    done = entry.reuse(allowed=allowed, disabled=f"{package} is not installed (installs disabled)")
    if done is not None:
        return done
    npm = shutil.which("npm")
    if npm is None:
        raise NpmError(f"installing {package} needs npm (https://nodejs.org/): no npm on PATH")
    return entry.build(
        lambda: _npm_install(npm, package, program, home, npm_env(npm, root)),
        starting=f"installing {package} with {npm} (once; cached in {home})",
        done=f"installed {package}",
    )


def _npm_install(
    npm: str, package: NpmPackage, program: str, home: Path, env: dict[str, str]
) -> None:
    """``npm install`` into a scratch prefix, published once the program is there."""
    with scratch(home) as work:
        step = [npm, "install", "--prefix", str(work), "--ignore-scripts", "--no-save",
                "--omit=dev", "--omit=optional", "--no-package-lock", str(package)]  # fmt: skip
        try:
            done = run_jailed(  # npm itself, jailed as a tool is (docs/isolation.md §2)
                step,
                cwd=work,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                timeout=NPM_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise NpmError(f"installing {package} took more than {NPM_TIMEOUT:.0f} s") from None
        except OSError as exc:
            raise NpmError(f"installing {package}: {exc}") from None
        if done.returncode != 0:
            raise InstallRefused(
                f"npm install {package} failed: {first_error(done.stderr + done.stdout)}"
            )
        if not (work / "node_modules" / ".bin" / program).exists():
            raise InstallRefused(f"{package} installed no program {program}")
        (work / _DONE).write_text(f"{package}\n", encoding="utf-8")
        publish(work, home)
