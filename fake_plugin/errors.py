"""The fake plugin's exceptions that cross a module boundary, in one place.

Kept free of imports so the fast command-line branches can load any module that names them.
Three stay beside the code that builds their text: ``versions.UnknownReleaseError`` (lists the
registry), ``netpolicy.OfflineError`` (Go's dial error for the host) and ``gopanic.GoPanic``
(a panic to render, not an error to catch); private control flow (``console.BrokenPipe``,
``datachannel._HandlerError``) stays private.
"""

from __future__ import annotations

__all__ = [
    "DecryptError",
    "GoJSONError",
    "KmsError",
    "NotEmulated",
    "SdkError",
    "SendFailed",
    "SessionCreateError",
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
