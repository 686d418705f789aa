"""The fake plugin's own exceptions, in one place: what the session code raises and reports.

Kept free of imports so the fast command-line branches can load any module that names them.
"""

from __future__ import annotations

__all__ = ["KmsError", "NotEmulated"]


class NotEmulated(Exception):
    """The session needs a behaviour the fake does not implement (assume a role, a port
    mode...): reported as ``not emulated``, exit 2, never passed off as the real plugin's."""


class KmsError(Exception):
    """The KMS step failed; ``str()`` is the exact text ``ProcessKMSEncryptionHandshakeAction``
    returns, which the plugin puts in its handshake response."""
