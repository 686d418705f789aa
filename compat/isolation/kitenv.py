"""The kit's own environment: only what it needs, so no real secret sits in its process.

A CI job may hold real AWS keys, tokens and passwords in its environment; the kit runs
third-party programs (issue 13 item 2). ``smp-compat`` therefore keeps an *allow list* of
variables at start (:func:`scrubbed`) and re-executes itself with only those
(:func:`enter_clean`): ``/proc/<pid>/environ`` shows a process's *initial* environment, so
deleting from ``os.environ`` alone would leave the secrets readable there. Every program the
kit then starts gets an environment built for it (the cell's sandbox, :func:`install_env`
for a pip step, ``compat.install.gobuild.go_env`` for ``go``), never ``os.environ`` wholesale.

Kept (docs/isolation.md): the names in :data:`KEPT_NAMES` and those starting with one of
:data:`KEPT_PREFIXES` (the kit's own ``SMP_COMPAT_*`` settings, ``PIP_*``, ``LC_*``).
Everything else goes, every ``AWS_*`` above all; the kit's own AWS SDK is pointed at
``/dev/null`` for its config and credentials files, so it never reads the user's ``~/.aws``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

__all__ = ["HIDE_ENV", "KEPT_NAMES", "KEPT_PREFIXES", "enter_clean", "install_env", "scrubbed"]

#: Variables the kit (or pip, go, a container engine it drives) needs; no credential among
#: them except what a registry proxy URL may carry, which only pip and ``go`` get.
KEPT_NAMES = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TERM", "TMPDIR",
        "COLUMNS", "NO_COLOR", "CI",
        # registries (pip, the Go module proxy) behind a proxy or a private CA
        "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
        "http_proxy", "https_proxy", "no_proxy", "all_proxy",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
        "GOPROXY", "GONOPROXY", "GOPRIVATE", "GONOSUMDB", "GOSUMDB", "GOINSECURE",
        "GOTOOLCHAIN",
        # where the kit finds itself, its caches and its compiler
        "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR",
        "CC", "LD_LIBRARY_PATH",
        # container engines (compat/runner/container)
        "DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "CONTAINER_HOST",
        # the GitHub step summary file (compat/report/summary.py); never GITHUB_TOKEN
        "GITHUB_STEP_SUMMARY",
    }
)  # fmt: skip
#: Prefixes of kept names: the kit's own settings, pip's settings, locale categories.
KEPT_PREFIXES = ("SMP_COMPAT_", "PIP_", "LC_")
#: Paths the cell jail covers besides the user's ``~/.aws`` (compat/isolation/jail.py): the
#: credential files the invoking environment named, remembered across the re-exec.
HIDE_ENV = "SMP_COMPAT_HIDE"
#: The files the kit's own AWS SDK reads instead of the user's.
_OWN = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_NAMED_FILES = ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE")


def _kept(name: str) -> bool:
    return name in KEPT_NAMES or name.startswith(KEPT_PREFIXES)


def scrubbed(environ: Mapping[str, str]) -> dict[str, str]:
    """The kit's environment made from ``environ``: the allow list, plus its own AWS files."""
    env = {k: v for k, v in environ.items() if _kept(k)}
    named = [environ[n] for n in _NAMED_FILES if environ.get(n) and environ[n] != os.devnull]
    hide = [p for p in (env.get(HIDE_ENV, "").split(os.pathsep) + named) if p]
    if hide:
        env[HIDE_ENV] = os.pathsep.join(dict.fromkeys(hide))
    env.update(_OWN)
    return env


def enter_clean(argv: list[str] | None = None) -> None:
    """Re-execute this command with :func:`scrubbed` as its whole environment, unless it has
    exactly that already (then return). ``argv``: the arguments after the program name."""
    clean = scrubbed(os.environ)
    if clean == dict(os.environ):
        return
    args = sys.argv[1:] if argv is None else argv
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "compat", *args], clean)


def install_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a pip step: the kit's, without a single ``AWS_*`` variable (the
    kit's own point at /dev/null; a package's build script has no use for them)."""
    source = os.environ if environ is None else environ
    return {k: v for k, v in source.items() if _kept(k) and k != HIDE_ENV}
