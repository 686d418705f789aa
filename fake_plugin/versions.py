"""Release names and version thresholds, importable without ``dataclasses`` for a fast start.

The full profiles live in :mod:`fake_plugin.releases`; the command-line branches (install text,
``--version``, errors, panics) need only what is here, so they never pay for ``dataclasses``.
"""

from __future__ import annotations

#: Selects the emulated release (default :data:`DEFAULT_RELEASE`).
RELEASE_ENV = "SMP_COMPAT_PLUGIN_RELEASE"
DEFAULT_RELEASE = "1.2.677.0"

#: The releases emulated, oldest first (docs/plugin.md §5 names each one's change).
KNOWN_RELEASES: tuple[str, ...] = (
    "1.2.54.0",
    "1.2.205.0",
    "1.2.234.0",
    "1.2.245.0",
    "1.2.295.0",
    "1.2.312.0",
    "1.2.497.0",
    "1.2.536.0",
    "1.2.677.0",
)

#: ``AWS_SSM_START_SESSION_RESPONSE*`` names an env var from 1.2.536.0 (commit 37e325f4;
#: docs/plugin.md §1.2); ``SMP@1.2.497.0:…/session.go:165`` still reads ``args[1]`` as JSON.
ENV_RESPONSE_MODE_SINCE = (1, 2, 536, 0)

#: Import path changed from ``github.com/aws/SSMCLI`` in 1.2.398.0 (commit 6012984f), which is
#: also the first release built with Go 1.17 (register ABI: new traceback argument format).
IMPORT_PATH_RENAMED_IN = (1, 2, 398, 0)


def version_key(version: str) -> tuple[int, ...]:
    """Sort key for dotted versions such as ``1.2.677.0``."""
    return tuple(int(part) for part in version.split("."))


class UnknownReleaseError(ValueError):
    """The requested release is not one the emulator has a profile for."""

    def __init__(self, version: str) -> None:
        self.version = version
        known = ", ".join(KNOWN_RELEASES)
        super().__init__(f"unknown session-manager-plugin release {version!r}; known: {known}")


def check(version: str) -> str:
    """``version`` itself if it is emulated, else :class:`UnknownReleaseError`."""
    if version not in KNOWN_RELEASES:
        raise UnknownReleaseError(version)
    return version


def env_response_mode(version: str) -> bool:
    """Whether ``args[1]`` may name an ``AWS_SSM_START_SESSION_RESPONSE*`` variable."""
    return version_key(version) >= ENV_RESPONSE_MODE_SINCE


def session_go_lines(version: str) -> tuple[int, int]:
    """Lines of ``session.go`` that panic: the ``.(string)`` assertion and the SessionId deref.

    Read from each tag of aws/session-manager-plugin (``git show <tag>:src/
    sessionmanagerplugin/session/session.go``): 1.2.54.0 155/171, 1.2.205.0 156/172 (the
    client-timeout code), 1.2.234.0-1.2.245.0 155/171, 1.2.295.0-1.2.497.0 176/192,
    1.2.536.0-1.2.677.0 184/200 (docs/plugin.md §1.1 cites the last pair).
    """
    key = version_key(version)
    if key >= (1, 2, 536, 0):
        return 184, 200
    if key >= (1, 2, 295, 0):
        return 176, 192
    if key == (1, 2, 205, 0):
        return 156, 172
    return 155, 171


def go_import_root(version: str) -> str:
    """The Go import path of the plugin's sources, as printed in a panic's stack trace."""
    if version_key(version) >= IMPORT_PATH_RENAMED_IN:
        return "github.com/aws/session-manager-plugin"
    return "github.com/aws/SSMCLI"


def go_register_abi(version: str) -> bool:
    """Built with Go >= 1.17, whose tracebacks print arguments as ``{0x.., 0x6, 0x6}``."""
    return version_key(version) >= IMPORT_PATH_RENAMED_IN
