"""The exact texts a real agent/MGS sends in ``channel_closed`` and ``HandshakeComplete``."""

from __future__ import annotations

from fake_plugin.kms import MODELED_KMS_EXCEPTIONS

#: AGENT@1c217c89:agent/framework/processor/executer/iohandler/iohandler.go:33,35
MAXIMUM_PLUGIN_OUTPUT_SIZE = 2500
ERROR_TITLE = "\n----------ERROR-------\n"
_TRUNCATE_OUT = "\n---Output truncated---"
_TRUNCATE_ERROR = "\n---Error truncated----"

#: AGENT@1c217c89:agent/session/plugins/sessionplugin/sessionplugin.go:108
HANDSHAKE_ERROR_PREFIX = "Encountered error while initiating handshake. "
#: AGENT@1c217c89:agent/session/datachannel/datachannel.go:982
HANDSHAKE_TIMED_OUT = (
    "Handshake timed out. Please ensure that you have the latest version of the session "
    "manager plugin."
)
#: AGENT@1c217c89:agent/session/datachannel/datachannel.go:998
CHALLENGE_TIMED_OUT = "Timed out waiting for encryption challenge."
#: AGENT@1c217c89:agent/session/datachannel/datachannel.go:906
CHALLENGE_MISMATCH = "Encryption challenge does not match!"
#: AGENT@1c217c89:agent/session/datachannel/datachannel.go:1052
ENCRYPTED_CUSTOMER_MESSAGE = "This session is encrypted using AWS KMS."

#: KMS exceptions aws-sdk-go v1.51.20 models as typed errors (the agent's vendored SDK,
#: AGENT@1c217c89:extra/aws-sdk-go/service/kms/errors.go). Their ``Error()`` is only
#: ``"<Code>: <Message>"`` (``service/kms/api.go``, e.g. ``InvalidCiphertextException.Error``);
#: ConflictException came to the KMS model after 1.51.20, so the agent does not know it;
#: every other code falls back to ``awserr.NewRequestFailure`` (``private/protocol/jsonrpc/
#: unmarshal_error.go``), which adds ``"\n\tstatus code: N, request id: ID"``
#: (``aws/awserr/types.go`` ``SprintError`` and ``requestError.Error``).
KMS_MODELED_EXCEPTIONS = MODELED_KMS_EXCEPTIONS - {"ConflictException"}


def truncate_output(stdout: str, stderr: str, capacity: int = MAXIMUM_PLUGIN_OUTPUT_SIZE) -> str:
    """The agent's task Output: ``stdout + ERROR_TITLE + stderr``, cut to ``capacity``.

    AGENT@1c217c89:agent/framework/processor/executer/iohandler/iohandler.go:436-470
    (``TruncateOutput``). Go slices bytes; our texts are ASCII, so ``str`` slices match.
    """
    title = ERROR_TITLE if stderr else ""
    available = capacity - len(title)
    if len(stdout) + len(stderr) < available:
        return stdout + title + stderr
    if len(stdout) > available // 2 and len(stderr) > available // 2:
        size = available - len(_TRUNCATE_ERROR) - len(_TRUNCATE_OUT)
        return stdout[: size // 2] + _TRUNCATE_OUT + title + stderr[: size // 2] + _TRUNCATE_ERROR
    if len(stdout) <= available // 2:
        size = available - len(_TRUNCATE_ERROR)
        return stdout + title + stderr[: size - len(stdout)] + _TRUNCATE_ERROR
    size = available - len(_TRUNCATE_OUT)
    return stdout[: size - len(stderr)] + _TRUNCATE_OUT + title + stderr


def handshake_failed_output(error: str) -> str:
    """``channel_closed`` Output when ``PerformHandshake`` fails (sessionplugin.go:107-112)."""
    return truncate_output("", HANDSHAKE_ERROR_PREFIX + error)


def client_action_failed(action_type: str, status: int, error: str) -> str:
    """An action the client did not process (datachannel.go:863-865: ``%s failed on client
    with status %v error: %s``)."""
    return f"{action_type} failed on client with status {status} error: {error}"


def sdk_error(code: str, message: str, status_code: int, request_id: str) -> str:
    """How the agent's aws-sdk-go v1.51.20 prints a KMS API error (see KMS_MODELED_EXCEPTIONS)."""
    if code in KMS_MODELED_EXCEPTIONS:
        return f"{code}: {message}"
    return f"{code}: {message}\n\tstatus code: {status_code}, request id: {request_id}"


def data_key_failed(sdk_error_text: str) -> str:
    """A failed KMS ``Decrypt`` of the client's data key, as ``PerformHandshake`` returns it.

    AGENT@1c217c89:agent/session/datachannel/datachannel.go:937-939 (``Fetching data key
    failed: %s``), agent/session/crypto/blockcipher.go:100-102 (``Unable to retrieve data key,
    %v``), agent/session/crypto/kmsservice.go:77-79 (``Error when decrypting data key %s``).
    """
    return (
        "Fetching data key failed: Unable to retrieve data key, "
        f"Error when decrypting data key {sdk_error_text}"
    )


def decrypt_stream_failed(sequence_number: int) -> str:
    """Logged (never shown) when client Output does not decrypt (datachannel.go:816-819)."""
    return (
        f"Error decrypting stream data message sequence {sequence_number}, err: "
        "Error decrypting encrypted text, cipher: message authentication failed"
    )


def missing_ciphertext_error(blob_is_nil: bool) -> str:
    """aws-sdk-go's client-side ``DecryptInput.Validate`` error for an absent or empty key.

    AGENT@1c217c89:extra/aws-sdk-go/service/kms/api.go:11659-11679 and
    aws/request/validation.go:75-89,135-137: Go unmarshals a missing/``null``
    ``KMSCipherTextKey`` as a nil slice, ``""`` as an empty one.
    """
    reason = "missing required field" if blob_is_nil else "minimum field size of 1"
    return (
        "InvalidParameter: 1 validation error(s) found.\n"
        f"- {reason}, DecryptInput.CiphertextBlob.\n"
    )
