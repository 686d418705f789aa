"""The release registry: every plugin release the kit knows, and the one place it is said.

Names, the default, the matrix columns, the version at which each observable change came, and
the one sort key. fake_plugin owns it and the kit reads it (``compat`` imports it; never the
other way). The full profiles built from it live in :mod:`fake_plugin.releases`; the
command-line branches (install text, ``--version``, errors, panics) need only what is here, so
this module imports nothing but the import-free ``fake_plugin.errors`` and they never pay
for ``dataclasses``.
"""

from __future__ import annotations

from fake_plugin.errors import UnknownReleaseError

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

#: The releases a matrix runs against by default, oldest first: the last with the old
#: legacy-CLI text, the last without env-var response mode, and the newest (docs/plugin.md
#: §2.1, §1.2, §5).
MATRIX_RELEASES: tuple[str, ...] = ("1.2.234.0", "1.2.497.0", "1.2.677.0")
#: The newest release emulated: where one release proves a point for all (``reconnect``).
NEWEST_RELEASE = KNOWN_RELEASES[-1]

# -- When each caller-visible change came (docs/plugin.md §5); ``releases._profile`` reads them.

#: The legacy-CLI KMS text reworded (commit b5222c73, aws/session-manager-plugin#8).
LEGACY_TEXT_REWORDED_IN = (1, 2, 245, 0)
#: ``start_publication``/``pause_publication`` accepted and a resend timeout terminates the
#: session (commit b68c608c).
PUBLICATION_MESSAGES_SINCE = (1, 2, 295, 0)
#: PayloadTypes 11 and 12 decrypted too when encryption is on (commit 6cff96f7).
DECRYPTS_ALL_PAYLOADS_SINCE = (1, 2, 312, 0)
#: OpenDataChannel carries ``"ClientVersion"`` (commit 9b57835a).
CLIENT_VERSION_SINCE = (1, 2, 677, 0)
#: The one release that gives up waiting for a session type (34bde908, reverted by 08ff034f).
CLIENT_TIMEOUT_RELEASE = "1.2.205.0"

#: ``AWS_SSM_START_SESSION_RESPONSE*`` names an env var from 1.2.536.0 (commit 37e325f4;
#: docs/plugin.md §1.2); ``SMP@1.2.497.0:…/session.go:165`` still reads ``args[1]`` as JSON.
ENV_RESPONSE_MODE_SINCE = (1, 2, 536, 0)

#: Import path changed from ``github.com/aws/SSMCLI`` in 1.2.398.0 (commit 6012984f), which is
#: also the first release built with Go 1.17 (register ABI: new traceback argument format).
IMPORT_PATH_RENAMED_IN = (1, 2, 398, 0)


#: Where :func:`version_key` puts a name that is not a dotted version (``real``: AWS's binary).
_NOT_A_VERSION = (1 << 30,)


def version_key(version: str) -> tuple[int, ...]:
    """The one sort key for releases: ``1.2.54.0`` before ``1.2.205.0``; anything that is not
    a dotted version (``real``, AWS's own binary) after every release."""
    parts = version.split(".")
    if not all(part.isdigit() for part in parts):
        return _NOT_A_VERSION
    return tuple(int(part) for part in parts)


def check(version: str) -> str:
    """``version`` itself if it is emulated, else :class:`UnknownReleaseError`."""
    if version not in KNOWN_RELEASES:
        raise UnknownReleaseError(version, KNOWN_RELEASES)
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
