"""The fake plugin's exceptions, in one place.

Kept free of imports so the fast command-line branches (install text, ``--version``, an
unknown release, a panic) can load any module that names them: the text that needs a module
of its own is built there and handed in (``versions.check`` passes the known releases,
``netpolicy.offline`` whether the host is an IP literal). The plugin never imports ``compat``,
so these derive from builtins, not from ``compat.errors``. Private control flow used inside one
module (``datachannel._HandlerError``) stays there.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not ``typing``: this module imports nothing at run time
if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "BrokenPipe",
    "DecryptError",
    "GoJSONError",
    "GoPanic",
    "KmsError",
    "NotEmulated",
    "OfflineError",
    "SdkError",
    "SendFailed",
    "SessionCreateError",
    "UnknownReleaseError",
    "WireError",
]


class NotEmulated(Exception):
    """The session needs a behaviour the fake does not implement (a credential source such as
    assume role, SSO or web identity; a port mode...): reported as ``not emulated``, exit 2,
    never passed off as the real plugin's."""


class KmsError(Exception):
    """The KMS step failed; ``str()`` is the exact text ``ProcessKMSEncryptionHandshakeAction``
    returns, which the plugin puts in its handshake response."""


class SessionCreateError(Exception):
    """``NewSessionWithOptions`` failed: the text after ``Error creating new aws sdk session``."""


class SdkError(Exception):
    """An aws-sdk-go error; ``str()`` is exactly what Go's ``err.Error()`` returns."""


class GoJSONError(Exception):
    """An error ``json.Unmarshal`` returns; ``str()`` is Go's ``err.Error()`` exactly."""


class WireError(ValueError):
    """Bytes that the real parser would drop (too short, bad digest, missing fields)."""


class DecryptError(ValueError):
    """A frame that does not decrypt with the expected half of the data key."""


class SendFailed(Exception):
    """A write on the dropped websocket; ``str()`` is the error Go would return."""


class UnknownReleaseError(ValueError):
    """The requested release is not one the emulator has a profile for; ``known`` is the
    registry (``versions.KNOWN_RELEASES``), named in the message."""

    def __init__(self, version: str, known: Iterable[str]) -> None:
        self.version = version
        super().__init__(
            f"unknown session-manager-plugin release {version!r}; known: {', '.join(known)}"
        )


class OfflineError(OSError):
    """A connection the fake refuses to open because the host is not loopback.

    Its text is what Go prints on a machine without a route to that name: the dial error for
    an IP literal (``literal``), the resolver's for a name. ``netpolicy.offline`` makes one.
    """

    def __init__(self, host: str, port: int | str, *, literal: bool) -> None:
        self.host, self.port = host, port
        if literal:
            super().__init__(f"dial tcp {host}:{port}: connect: network is unreachable")
        else:
            super().__init__(f"dial tcp: lookup {host}: no such host")


class GoPanic(Exception):
    """A panic the real release would raise at ``session.go:<line>`` (``gopanic.render``
    prints it as the Go runtime does).

    ``kind`` is the record's branch name; ``message`` what follows ``panic: ``.
    """

    def __init__(self, kind: str, message: str, line: int, *, fault: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line
        self.fault = fault


class BrokenPipe(Exception):
    """stdout or stderr is a pipe whose reader has gone.

    Go's runtime kills the process with SIGPIPE on such a write to fd 1 or 2; the caller
    records the run and then dies the same way (see ``fake_plugin.program``).
    """
