"""Release profiles: every caller-visible difference between session-manager-plugin releases.

Facts and citations: ``docs/plugin.md`` §5 (version table), §2.1 (legacy-CLI
KMS text), §1.2 (env-var response mode), §3.1 (``ClientVersion``), §1 (1.2.205.0 timeout).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from fake_plugin.errors import UnknownReleaseError

# The names below live in the dependency-free ``versions`` module so that the fast
# command-line branches can check a release without importing ``dataclasses``.
from fake_plugin.versions import (
    CLIENT_TIMEOUT_RELEASE,
    CLIENT_VERSION_SINCE,
    DECRYPTS_ALL_PAYLOADS_SINCE,
    DEFAULT_RELEASE,
    KNOWN_RELEASES,
    LEGACY_TEXT_REWORDED_IN,
    PUBLICATION_MESSAGES_SINCE,
    RELEASE_ENV,
    env_response_mode,
    version_key,
)

__all__ = [
    "DEFAULT_RELEASE",
    "LEGACY_KMS_TEXT_NEW",
    "LEGACY_KMS_TEXT_OLD",
    "RELEASES",
    "RELEASE_ENV",
    "Release",
    "current",
    "get",
    "version_key",
]

#: ``SMP@1.2.234.0:src/datachannel/streaming.go:832`` (1.2.54.0 … 1.2.234.0).
LEGACY_KMS_TEXT_OLD = (
    "Installed version of AWS CLI does not support Session Manager encryption feature. "
    "Please upgrade to latest version of AWS CLI"
)
#: Commit b5222c73, first in 1.2.245.0 (aws/session-manager-plugin#8).
LEGACY_KMS_TEXT_NEW = (
    "Installed version of CLI does not support Session Manager encryption feature. "
    "Please upgrade to the latest version of your CLI (e.g., AWS CLI)."
)


@dataclass(frozen=True)
class Release:
    """What one release of the real plugin does differently, as a caller can observe it."""

    #: The bare version string printed by ``--version`` (plus a newline).
    version: str
    #: Error returned for a KMSEncryption handshake action after a 4-element argv.
    legacy_kms_error: str
    #: ``args[1]`` starting with ``AWS_SSM_START_SESSION_RESPONSE`` names an env var (37e325f4).
    env_response_mode: bool
    #: OpenDataChannel carries ``"ClientVersion"`` (9b57835a).
    sends_client_version: bool
    #: Seconds after which 1.2.205.0 gives up waiting for a session type (34bde908, reverted
    #: by 08ff034f); ``None``: wait forever.
    client_timeout_s: float | None
    #: ``start_publication``/``pause_publication`` accepted (b68c608c);
    #: before: "Invalid message type".
    accepts_publication_messages: bool
    #: After the stream-resend limit the plugin calls SSM TerminateSession.
    resend_timeout_terminates: bool
    #: PayloadTypes decrypted when encryption is on: ``(1,)`` before 1.2.312.0 (6cff96f7),
    #: then 1, 11, 12.
    decrypted_payload_types: tuple[int, ...]


def _profile(version: str) -> Release:
    key = version_key(version)
    return Release(
        version=version,
        legacy_kms_error=(
            LEGACY_KMS_TEXT_NEW if key >= LEGACY_TEXT_REWORDED_IN else LEGACY_KMS_TEXT_OLD
        ),
        env_response_mode=env_response_mode(version),
        sends_client_version=key >= CLIENT_VERSION_SINCE,
        client_timeout_s=10.0 if version == CLIENT_TIMEOUT_RELEASE else None,
        accepts_publication_messages=key >= PUBLICATION_MESSAGES_SINCE,
        resend_timeout_terminates=key >= PUBLICATION_MESSAGES_SINCE,
        decrypted_payload_types=(1, 11, 12) if key >= DECRYPTS_ALL_PAYLOADS_SINCE else (1,),
    )


#: The releases emulated, oldest first (docs/plugin.md §5 names each one's change).
RELEASES: dict[str, Release] = {v: _profile(v) for v in KNOWN_RELEASES}


def get(version: str) -> Release:
    """The profile of ``version``, or :class:`UnknownReleaseError` naming the known ones."""
    try:
        return RELEASES[version]
    except KeyError:
        raise UnknownReleaseError(version, KNOWN_RELEASES) from None


def current(environ: dict[str, str] | None = None) -> Release:
    """The release selected by ``SMP_COMPAT_PLUGIN_RELEASE`` (default :data:`DEFAULT_RELEASE`)."""
    env = os.environ if environ is None else environ
    return get(env.get(RELEASE_ENV) or DEFAULT_RELEASE)
