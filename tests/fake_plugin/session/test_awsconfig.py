"""aws-sdk-go v1 credential and region resolution (docs/plugin.md §1.3), table-driven."""

from __future__ import annotations

from pathlib import Path

import pytest

from fake_plugin import awsconfig
from fake_plugin.awsconfig import NO_CREDENTIAL_PROVIDERS, Credentials
from fake_plugin.errors import NotEmulated, SessionCreateError

CREDS = (
    "[default]\naws_access_key_id = AKDEF\naws_secret_access_key = sdef\n\n"
    "[p1]\naws_access_key_id = AKP1\naws_secret_access_key = sp1\n"
)
CONFIG = (
    "[default]\nregion = eu-central-1\n\n"
    "[profile p2]\nregion = ap-south-1\naws_access_key_id = AKP2\naws_secret_access_key = sp2\n"
)
ENV_KEYS = {"AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "senv"}

# (id, region arg, profile arg, env, files?, expected region, expected key id or None)
ROWS = [
    # §1.3 "Non-empty args[4]: the SDK loads that profile first, and environment keys are skipped"
    ("profile-beats-env-keys", "us-east-1", "p1", ENV_KEYS, True, "us-east-1", "AKP1"),
    # §1.3 observed: args[4]=nosuch with env keys set -> NoCredentialProviders
    ("missing-profile-ignores-env", "us-east-1", "nosuch", ENV_KEYS, True, "us-east-1", None),
    ("missing-profile-no-files", "us-east-1", "nosuch", ENV_KEYS, False, "us-east-1", None),
    # §1.3 "Empty args[4] means the SDK default chain": env keys first
    ("empty-profile-env-keys", "us-east-1", "", ENV_KEYS, True, "us-east-1", "AKENV"),
    (
        "env-keys-beat-aws-profile",
        "us-east-1",
        "",
        {**ENV_KEYS, "AWS_PROFILE": "p1"},
        True,
        "us-east-1",
        "AKENV",
    ),
    ("aws-profile", "us-east-1", "", {"AWS_PROFILE": "p1"}, True, "us-east-1", "AKP1"),
    (
        "aws-default-profile",
        "us-east-1",
        "",
        {"AWS_DEFAULT_PROFILE": "p1"},
        True,
        "us-east-1",
        "AKP1",
    ),
    ("shared-default", "us-east-1", "", {}, True, "us-east-1", "AKDEF"),
    ("nothing-anywhere", "us-east-1", "", {}, False, "us-east-1", None),
    ("aws-profile-missing", "us-east-1", "", {"AWS_PROFILE": "nosuch"}, True, "us-east-1", None),
    # "[profile x]" in the config file carries keys too (shared_config.go setFromIniFile)
    ("config-file-profile", "", "p2", {}, True, "ap-south-1", "AKP2"),
    # §1.3 region: args[2] -> AWS_REGION -> AWS_DEFAULT_REGION -> profile region
    ("region-arg-wins", "us-west-2", "", {"AWS_REGION": "eu-west-1"}, True, "us-west-2", "AKDEF"),
    (
        "aws-region",
        "",
        "",
        {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-2"},
        True,
        "eu-west-1",
        "AKDEF",
    ),
    ("aws-default-region", "", "", {"AWS_DEFAULT_REGION": "eu-west-2"}, True, "eu-west-2", "AKDEF"),
    ("profile-region", "", "", {}, True, "eu-central-1", "AKDEF"),
    ("no-region", "", "p1", {}, False, "", None),
]


@pytest.mark.parametrize(
    ("region", "profile", "env", "files", "want_region", "want_key"),
    [pytest.param(*row[1:], id=row[0]) for row in ROWS],
)
def test_resolution(
    tmp_path: Path,
    region: str,
    profile: str,
    env: dict[str, str],
    files: bool,
    want_region: str,
    want_key: str | None,
) -> None:
    if files:
        (tmp_path / ".aws").mkdir()
        (tmp_path / ".aws" / "credentials").write_text(CREDS)
        (tmp_path / ".aws" / "config").write_text(CONFIG)
    config = awsconfig.resolve(region, profile, {"HOME": str(tmp_path), **env})
    assert config.region == want_region
    if want_key is None:
        assert config.credentials is None
        assert config.credentials_error == NO_CREDENTIAL_PROVIDERS
    else:
        assert config.credentials is not None
        assert config.credentials.access_key_id == want_key


def test_home_decides_aws_dir(tmp_path: Path) -> None:
    """``HOME`` locates ``~/.aws`` (internal/shareddefaults); AWS_SHARED_CREDENTIALS_FILE wins."""
    other = tmp_path / "elsewhere"
    other.write_text("[p9]\naws_access_key_id = AK9\naws_secret_access_key = s9\n")
    env = {"HOME": str(tmp_path), "AWS_SHARED_CREDENTIALS_FILE": str(other)}
    config = awsconfig.resolve("us-east-1", "p9", env)
    assert config.credentials == Credentials("AK9", "s9", "")


def test_bad_fips_value_fails_session_creation(tmp_path: Path) -> None:
    """env_config.go setUseFIPSEndpointFromEnvVal: only true/false are accepted."""
    with pytest.raises(SessionCreateError, match="need true, false"):
        awsconfig.resolve("us-east-1", "", {"HOME": str(tmp_path), "AWS_USE_FIPS_ENDPOINT": "x"})


def test_assume_role_is_reported_not_emulated(tmp_path: Path) -> None:
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text(
        "[profile r]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n"
    )
    with pytest.raises(NotEmulated):
        awsconfig.resolve("us-east-1", "r", {"HOME": str(tmp_path)})
