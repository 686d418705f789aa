"""The plugin's KMS client: ``GenerateDataKey`` for the KMSEncryption handshake action.

``ProcessKMSEncryptionHandshakeAction`` (``SMP:src/datachannel/streaming.go:850-868``) builds a
KMS client from the *default* SDK session, so args[6] and ``AWS_ENDPOINT_URL*`` never reach it
(``SMP:src/encryption/kmsservice.go:30-38``; docs/plugin.md §1.3, §4), then asks for 64 bytes
with the encryption context ``{aws:ssm:SessionId, aws:ssm:TargetId}``
(``kmsservice.go:52-66``). Its errors are wrapped as ``Error calling KMS GenerateDataKey API:
<err>`` (``kmsservice.go:63``) or, when the session cannot be built, ``error while creating
new KMS service, Error creating new aws sdk session <err>`` (``streaming.go:860-863``,
``SMP:src/sdkutil/awsconfig.go:40-42``).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fake_plugin import awsconfig, awsjson
from fake_plugin.errors import KmsError, NotEmulated, SdkError, SessionCreateError

#: ``KMSKeySizeInBytes`` (kmsservice.go:26-28): first half agent->client, second client->agent.
DATA_KEY_BYTES = 64

#: The exceptions modeled in the vendored ``service/kms/errors.go`` (aws-sdk-go 1.54.10): the SDK
#: prints these as ``Code: message`` with no status line (``aws/awserr/types.go``).
MODELED_KMS_EXCEPTIONS = frozenset(
    {
        "AlreadyExistsException",
        "CloudHsmClusterInUseException",
        "CloudHsmClusterInvalidConfigurationException",
        "CloudHsmClusterNotActiveException",
        "CloudHsmClusterNotFoundException",
        "CloudHsmClusterNotRelatedException",
        "ConflictException",
        "CustomKeyStoreHasCMKsException",
        "CustomKeyStoreInvalidStateException",
        "CustomKeyStoreNameInUseException",
        "CustomKeyStoreNotFoundException",
        "DependencyTimeoutException",
        "DisabledException",
        "DryRunOperationException",
        "ExpiredImportTokenException",
        "IncorrectKeyException",
        "IncorrectKeyMaterialException",
        "IncorrectTrustAnchorException",
        "KMSInternalException",
        "InvalidAliasNameException",
        "InvalidArnException",
        "InvalidCiphertextException",
        "InvalidGrantIdException",
        "InvalidGrantTokenException",
        "InvalidImportTokenException",
        "InvalidKeyUsageException",
        "InvalidMarkerException",
        "KMSInvalidStateException",
        "KMSInvalidMacException",
        "KMSInvalidSignatureException",
        "KeyUnavailableException",
        "LimitExceededException",
        "MalformedPolicyDocumentException",
        "NotFoundException",
        "TagException",
        "UnsupportedOperationException",
        "XksKeyAlreadyInUseException",
        "XksKeyInvalidConfigurationException",
        "XksKeyNotFoundException",
        "XksProxyIncorrectAuthenticationCredentialException",
        "XksProxyInvalidConfigurationException",
        "XksProxyInvalidResponseException",
        "XksProxyUriEndpointInUseException",
        "XksProxyUriInUseException",
        "XksProxyUriUnreachableException",
        "XksProxyVpcEndpointServiceInUseException",
        "XksProxyVpcEndpointServiceInvalidConfigurationException",
        "XksProxyVpcEndpointServiceNotFoundException",
    }
)

KMS = awsjson.JsonService(
    endpoint_prefix="kms",
    signing_name="kms",
    target_prefix="TrentService",
    modeled_errors=MODELED_KMS_EXCEPTIONS,
)


@dataclass(frozen=True)
class DataKey:
    """GenerateDataKey's answer: the blob the agent decrypts, and the 64-byte plaintext."""

    ciphertext: bytes
    plaintext: bytes


def encryption_context(session_id: str, target_id: str) -> dict[str, str]:
    """The context the plugin sends (streaming.go:865); TargetId is "" for short argv."""
    return {"aws:ssm:SessionId": session_id, "aws:ssm:TargetId": target_id}


def generate_data_key(
    key_id: str,
    context: dict[str, str],
    *,
    region: str,
    profile: str,
    environ: Mapping[str, str],
    sleep: Callable[[float], None] | None = None,
) -> DataKey:
    """Call KMS GenerateDataKey as the real plugin does; :class:`KmsError` with its text."""
    try:
        config = awsconfig.resolve(region, profile, environ)
    except SessionCreateError as exc:
        raise KmsError(
            f"error while creating new KMS service, Error creating new aws sdk session {exc}"
        ) from None
    if config.region and not key_id:
        # ValidateParametersHandler runs after ValidateEndpoint and before Sign.
        raise KmsError(
            "Error calling KMS GenerateDataKey API: InvalidParameter: 1 validation error(s) "
            "found.\n- minimum field size of 1, GenerateDataKeyInput.KeyId.\n"
        )
    params = {"EncryptionContext": context, "KeyId": key_id, "NumberOfBytes": DATA_KEY_BYTES}
    try:
        answer = awsjson.call(
            KMS, "GenerateDataKey", params, config, environ, sleep=sleep or time.sleep
        )
    except SdkError as exc:
        raise KmsError(f"Error calling KMS GenerateDataKey API: {exc}") from None
    try:
        return DataKey(
            base64.b64decode(answer["CiphertextBlob"]), base64.b64decode(answer["Plaintext"])
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise NotEmulated(f"KMS answered GenerateDataKey without a usable key: {exc}") from None
