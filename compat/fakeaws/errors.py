"""The fake AWS's exceptions, in one place.

What fails in the fake AWS itself is the kit's (:class:`~compat.errors.KitError`). A request the
real service refuses is the caller's (:class:`DocumentError`): the patches answer it as AWS's
error and it never leaves them.

Two stay beside the moto code, because they subclass moto's ``ServiceException`` and importing
moto here would make every import of this module pay for it: ``moto_base.AwsError`` (an AWS
error answer; moto also reads the service from the exception's module) and
``guard.OutboundRefusedError`` (a moto action's outbound call refused).
``readonly._FilterKeyError`` is private to its module.
"""

from __future__ import annotations

from compat.errors import KitError, UserError

__all__ = ["DocumentError", "FakeAWSError", "PatchDispatchError", "ProxyError"]


class FakeAWSError(KitError):
    """FakeAWS used out of order (e.g. started twice) or missing a part it was asked for."""


class ProxyError(KitError):
    """The proxy cannot start (e.g. the ``openssl`` binary is missing): the machine lacks a
    part the kit needs."""


class PatchDispatchError(KitError):
    """moto no longer dispatches an operation to our patch (an upgrade changed its internals)."""


class DocumentError(UserError):
    """A StartSession the real service refuses: ``code`` is the AWS error code.

    The caller's request (document, parameters), so the user's side to fix, never the kit's;
    ``moto_ssm`` answers it as that AWS error, so it never reaches the command line.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
