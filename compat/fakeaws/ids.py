"""Identifiers shaped like AWS's: session ids, runtime ids, tokens, fake keys, SigV4 key ids."""

from __future__ import annotations

import re
import secrets
import string

#: ``Credential=<AccessKeyId>/<date>/<region>/<service>/aws4_request`` in a SigV4
#: ``Authorization`` header, or ``X-Amz-Credential=`` in a presigned query string.
_CREDENTIAL = re.compile(r"(?:Credential|X-Amz-Credential)=([A-Za-z0-9]+)(?:/|%2F)")
_KEY_ALPHABET = string.ascii_uppercase + string.digits


def ecs_session_id() -> str:
    """``ecs-execute-command-`` plus 17 hex digits, as ECS ExecuteCommand returns.

    Shape from real sessions, e.g. ``ecs-execute-command-0228164ca8ff6e2c1``
    (aws/session-manager-plugin#49).
    """
    return f"ecs-execute-command-{secrets.token_hex(9)[:17]}"


def ssm_session_id(principal: str) -> str:
    """``<caller name>-<17 hex digits>``, as SSM StartSession returns (``Jane-Roe-07a1...``)."""
    return f"{principal}-{secrets.token_hex(9)[:17]}"


def runtime_id(task_id: str) -> str:
    """A container ``runtimeId`` in the Fargate shape ``<taskId>-<10 digits>``.

    Callers build the SSM target ``ecs:<cluster>_<taskId>_<runtimeId>`` from it
    (docs/plugin.md §2.3; docs/ecosystem.md §1.3: the AWS CLI fails with ``KeyError: 'runtimeId'``).
    """
    return f"{task_id}-{secrets.randbelow(9 * 10**9) + 10**9}"


def token_value() -> str:
    """An opaque session token; the agent compares it with the OpenDataChannel frame's."""
    return secrets.token_urlsafe(48)


def fake_access_key_id() -> str:
    """``AKIA`` plus 16 upper-case letters and digits, unique per sandbox for attribution."""
    return "AKIAFAKE" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(12))


def is_fake_access_key_id(key_id: str) -> bool:
    """Whether ``key_id`` is one of :func:`fake_access_key_id`'s: a request of the kit's."""
    return key_id.startswith("AKIAFAKE")


def fake_secret_access_key() -> str:
    """40 characters, the length of a real secret key; never checked by the fake."""
    return secrets.token_urlsafe(30)[:40]


def access_key_id(authorization: str | None) -> str | None:
    """The access key id that signed a request, from its SigV4 ``Authorization`` header.

    The key id tells which sandbox (matrix cell) made the call; signatures are not checked.
    """
    if not authorization:
        return None
    match = _CREDENTIAL.search(authorization)
    return match.group(1) if match else None
