"""Where a scenario puts the cell's keys and region (files or environment)."""

from __future__ import annotations

from compat.runner.sandbox import aws_setup

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIAFAKE",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
}
BASE = dict(
    default_region="us-east-1", profile_name=None, user_profile=None, user_region=None,
    profile_via="flag", region_via="flag",
)  # fmt: skip


def test_default_profile_keeps_keys_and_region_in_the_files() -> None:
    setup = aws_setup(FAKE_ENV, credentials="default-profile", region_source="config", **BASE)  # type: ignore[arg-type]
    assert "AWS_ACCESS_KEY_ID" not in setup.env and "AWS_REGION" not in setup.env
    assert setup.credentials.startswith("[default]\naws_access_key_id = AKIAFAKE")
    assert setup.config == "[default]\nregion = us-east-1\n"
    assert setup.env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"


def test_a_named_profile_holds_the_only_keys_and_env_choice_sets_aws_profile() -> None:
    base = BASE | {"profile_name": "p", "user_profile": "p", "profile_via": "env"}
    setup = aws_setup(FAKE_ENV, credentials="named-profile", region_source="config", **base)  # type: ignore[arg-type]
    assert setup.credentials.startswith("[p]\n") and "[default]" not in setup.credentials
    assert "[profile p]\nregion = us-east-1" in setup.config
    assert setup.env["AWS_PROFILE"] == "p"


def test_env_credentials_have_no_files() -> None:
    setup = aws_setup(FAKE_ENV, credentials="env", region_source="env", **BASE)  # type: ignore[arg-type]
    assert (setup.config, setup.credentials) == ("", "")
    assert setup.env["AWS_ACCESS_KEY_ID"] == "AKIAFAKE" and setup.env["AWS_REGION"] == "us-east-1"


def test_a_region_chosen_by_flag_stays_out_of_the_environment() -> None:
    flag = aws_setup(
        FAKE_ENV,
        credentials="default-profile",
        region_source="config",
        **BASE | {"user_region": "eu-west-1"},
    )  # type: ignore[arg-type]
    env = aws_setup(
        FAKE_ENV,
        credentials="default-profile",
        region_source="config",
        **BASE | {"user_region": "eu-west-1", "region_via": "env"},
    )  # type: ignore[arg-type]
    assert "AWS_REGION" not in flag.env
    assert env.env["AWS_REGION"] == env.env["AWS_DEFAULT_REGION"] == "eu-west-1"
