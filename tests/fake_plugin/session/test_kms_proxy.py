"""The plugin's KMS client through a real moto proxy on 127.0.0.1 (docs/plugin.md §1.3, §2.2, §4).

KMS ignores args[6] and AWS_ENDPOINT_URL: the only way to reach a fake is HTTPS_PROXY plus a
trusted CA, exactly the observed recipe of §4.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fake_plugin import kms
from fake_plugin.awsjson import _error_from_response, _Response

KEYS = {"AWS_ACCESS_KEY_ID": "AKIAFAKE", "AWS_SECRET_ACCESS_KEY": "fake"}
CONTEXT = kms.encryption_context("sess-kms-ok", "i-0123456789abcdef0")


def _call(
    key_id: str, env: dict[str, str], region: str = "us-east-1", profile: str = ""
) -> kms.DataKey:
    return kms.generate_data_key(
        key_id, CONTEXT, region=region, profile=profile, environ=env, sleep=lambda _s: None
    )


def test_generate_data_key_through_proxy(
    aws_proxy: tuple[str, str], kms_key: str, tmp_path: Path
) -> None:
    proxy, ca = aws_proxy
    env = {
        "HOME": str(tmp_path),
        "HTTPS_PROXY": proxy,
        "AWS_CA_BUNDLE": ca,
        **KEYS,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ENDPOINT_URL_KMS": "http://127.0.0.1:9",
    }
    key = _call(kms_key, env)
    assert len(key.plaintext) == 64 and key.ciphertext


def test_ssl_cert_file_also_trusted(
    aws_proxy: tuple[str, str], kms_key: str, tmp_path: Path
) -> None:
    """§4 observed: SSL_CERT_FILE works as well as AWS_CA_BUNDLE."""
    proxy, ca = aws_proxy
    env = {"HOME": str(tmp_path), "HTTPS_PROXY": proxy, "SSL_CERT_FILE": ca, **KEYS}
    assert len(_call(kms_key, env).plaintext) == 64


def test_untrusted_proxy_certificate(aws_proxy: tuple[str, str], tmp_path: Path) -> None:
    """§2.2 observed text (after the SDK's 3 retries, sleeps skipped here)."""
    proxy, _ca = aws_proxy
    env = {
        "HOME": str(tmp_path),
        "HTTPS_PROXY": proxy,
        **KEYS,
        "SSL_CERT_FILE": str(tmp_path / "none.pem"),
    }
    with pytest.raises(kms.KmsError) as err:
        _call("alias/x", env)
    assert str(err.value) == (
        "Error calling KMS GenerateDataKey API: RequestError: send request failed\n"
        'caused by: Post "https://kms.us-east-1.amazonaws.com/": '
        "x509: certificate signed by unknown authority"
    )


def test_modeled_error_has_no_status_line(
    aws_proxy: tuple[str, str], tmp_path: Path, kms_key: str
) -> None:
    """kms/api.go: NotFoundException.Error() is ``Code: message`` (no RequestFailure line)."""
    proxy, ca = aws_proxy
    env = {"HOME": str(tmp_path), "HTTPS_PROXY": proxy, "AWS_CA_BUNDLE": ca, **KEYS}
    with pytest.raises(kms.KmsError) as err:
        _call("alias/does-not-exist", env)
    text = str(err.value)
    assert text.startswith("Error calling KMS GenerateDataKey API: NotFoundException: ")
    assert "status code" not in text


def test_unmodeled_error_shape() -> None:
    """unmarshal_error.go: unmodeled codes are RequestFailures (observed AccessDenied shape)."""
    text, _code = _error_from_response(
        kms.KMS,
        _Response(
            400, {"x-amzn-requestid": "rid-1"}, b'{"__type":"AccessDeniedException","message":"no"}'
        ),
    )
    assert text == "AccessDeniedException: no\n\tstatus code: 400, request id: rid-1"


def test_missing_profile_and_region(tmp_path: Path) -> None:
    """§1.3 observed: NoCredentialProviders despite env keys; MissingRegion without region."""
    env = {"HOME": str(tmp_path), **KEYS}
    with pytest.raises(kms.KmsError) as err:
        _call("alias/x", env, profile="nosuch")
    assert str(err.value) == (
        "Error calling KMS GenerateDataKey API: NoCredentialProviders: no valid providers in "
        "chain. Deprecated.\n\tFor verbose messaging see aws.Config.CredentialsChainVerboseErrors"
    )
    with pytest.raises(kms.KmsError) as err:
        _call("alias/x", env, region="")
    assert str(err.value) == (
        "Error calling KMS GenerateDataKey API: MissingRegion: could not find region configuration"
    )


def test_no_proxy_never_leaves_loopback(tmp_path: Path) -> None:
    """Without HTTPS_PROXY the fake does not dial AWS; it fails as an offline machine would."""
    env = {"HOME": str(tmp_path), **KEYS}
    with pytest.raises(kms.KmsError, match="no such host"):
        _call("alias/x", env)
