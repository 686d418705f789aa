"""aws-sdk-go v1 credential and region resolution, as the plugin configures its SDK sessions.

The plugin builds every SDK session with ``NewSessionWithOptions{Config{Region: args[2],
Endpoint: ...}, SharedConfigState: SharedConfigEnable, Profile: args[4]}``
(``SMP:src/sdkutil/awsconfig.go:30-44``; docs/plugin.md §1.3). The rules below are those of the
vendored aws-sdk-go 1.54.10: ``aws/session/env_config.go:286-416`` (environment),
``aws/session/shared_config.go:234-470`` (files), ``aws/session/session.go:456-527,715-728``
(merge, region), ``aws/session/credentials.go:33-178`` (credential chain). Remote providers
(ECS container credentials, EC2 IMDS) are treated as absent: the fake never leaves 127.0.0.1.
"""

from __future__ import annotations

import configparser
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fake_plugin.errors import NotEmulated, SessionCreateError

#: ``credentials.ErrNoValidProvidersFoundInChain`` (aws/credentials/chain_provider.go:13-16).
NO_CREDENTIAL_PROVIDERS = (
    "NoCredentialProviders: no valid providers in chain. Deprecated.\n"
    "\tFor verbose messaging see aws.Config.CredentialsChainVerboseErrors"
)
#: ``aws.ErrMissingRegion`` (aws/errors.go), raised by the ValidateEndpoint handler.
MISSING_REGION = "MissingRegion: could not find region configuration"


@dataclass(frozen=True)
class Credentials:
    """A static key pair (from the environment or a shared file)."""

    access_key_id: str
    secret_access_key: str
    session_token: str = ""


@dataclass(frozen=True)
class SdkConfig:
    """What one SDK session resolved: region, credentials (or the chain's error), TLS, FIPS."""

    region: str
    credentials: Credentials | None
    #: The error ``Credentials.Get`` returns when ``credentials`` is None.
    credentials_error: str
    #: ``AWS_CA_BUNDLE`` or the profile's ``ca_bundle``: then the *only* trusted roots.
    ca_bundle: str | None
    use_fips: bool
    profile: str


def _first(environ: Mapping[str, str], *names: str) -> str:
    # env_config.go setFromEnvVal: the first non-empty variable wins.
    for name in names:
        value = environ.get(name, "")
        if value:
            return value
    return ""


def _home(environ: Mapping[str, str]) -> str:
    # internal/shareddefaults: HOME on Unix; filepath.Join("", ".aws", ...) stays relative.
    return environ.get("HOME", "")


def _read_ini(path: str) -> configparser.RawConfigParser | None:
    """One shared file; None when it cannot be read (loadSharedConfigIniFiles skips it)."""
    parser = configparser.RawConfigParser(
        default_section="\x00no-default\x00", strict=False, interpolation=None
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        # Inexact: the Go ini parser words its errors differently.
        raise SessionCreateError(
            f"SharedConfigLoadError: failed to load config file, {path}\ncaused by: {exc}"
        ) from None
    return parser


def _section(parser: configparser.RawConfigParser, profile: str) -> dict[str, str] | None:
    # setFromIniFile: "[name]" first, then "[profile name]", in either file.
    for name in (profile, f"profile {profile}"):
        if parser.has_section(name):
            return {k.strip().lower(): v.strip() for k, v in parser.items(name)}
    return None


def _bool_setting(value: str, name: str) -> bool | None:
    if not value:
        return None
    if value.lower() == "true":
        return True
    if value.lower() == "false":
        return False
    raise SessionCreateError(
        f"failed to load shared config, invalid value for environment variable, "
        f"{name}={value}, need true, false"
    )


def _shared_config(files: list[str], lookup: str) -> tuple[dict[str, str], Credentials | None]:
    """Profile ``lookup`` merged from the config and credentials files, and its static keys.

    SharedConfigProfileNotExistsError is swallowed (session.go:485-497): a profile in neither
    file is an empty shared config.
    """
    merged: dict[str, str] = {}
    found = False
    file_creds: Credentials | None = None
    for path in files:
        parser = _read_ini(path)
        if parser is None:
            continue
        section = _section(parser, lookup)
        if section is None:
            continue
        found = True
        merged.update({k: v for k, v in section.items() if v})
        if section.get("aws_access_key_id") and section.get("aws_secret_access_key"):
            file_creds = Credentials(
                section["aws_access_key_id"],
                section["aws_secret_access_key"],
                section.get("aws_session_token", ""),
            )
    return (merged, file_creds) if found else ({}, None)


def _profile_credentials(
    merged: Mapping[str, str], file_creds: Credentials | None, lookup: str
) -> Credentials | None:
    """resolveCredsFromProfile (credentials.go:102-178): assume-role first, then static keys,
    then the other sources; none of the non-static ones is emulated."""
    if merged.get("role_arn") or merged.get("source_profile"):
        raise NotEmulated(
            f"profile {lookup!r} assumes a role (STS), which the fake plugin does not emulate"
        )
    if file_creds is not None:
        return file_creds
    for key in (
        "credential_source",
        "web_identity_token_file",
        "sso_session",
        "sso_start_url",
        "credential_process",
    ):
        if merged.get(key):
            raise NotEmulated(
                f"profile {lookup!r} gets credentials from {key}, which the fake plugin "
                "does not emulate; give it static keys"
            )
    return None


def resolve(region_arg: str, profile_arg: str, environ: Mapping[str, str]) -> SdkConfig:
    """Resolve like ``NewSessionWithOptions`` with ``SharedConfigEnable`` and ``Profile``.

    Raises :class:`SessionCreateError` where the real session creation fails, and
    :class:`~fake_plugin.errors.NotEmulated` for sources not emulated.
    """
    fips_env = _bool_setting(environ.get("AWS_USE_FIPS_ENDPOINT", ""), "AWS_USE_FIPS_ENDPOINT")
    env_creds: Credentials | None = None
    access = _first(environ, "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY")
    secret = _first(environ, "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY")
    if access and secret:
        env_creds = Credentials(access, secret, environ.get("AWS_SESSION_TOKEN", ""))
    # Shared config on: AWS_DEFAULT_REGION/_PROFILE count too (env_config.go:335-343).
    env_region = _first(environ, "AWS_REGION", "AWS_DEFAULT_REGION")
    profile = profile_arg or _first(environ, "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
    home = _home(environ)
    files = [
        _first(environ, "AWS_CONFIG_FILE") or str(Path(home, ".aws", "config")),
        _first(environ, "AWS_SHARED_CREDENTIALS_FILE") or str(Path(home, ".aws", "credentials")),
    ]
    lookup = profile or "default"
    merged, file_creds = _shared_config(files, lookup)
    region = region_arg or env_region or merged.get("region", "")
    ca_bundle = environ.get("AWS_CA_BUNDLE") or merged.get("ca_bundle") or None
    fips = (
        fips_env if fips_env is not None else merged.get("use_fips_endpoint", "").lower() == "true"
    )
    if ca_bundle is not None and not Path(ca_bundle).is_file():
        raise SessionCreateError(
            "LoadCustomCABundleError: failed to open custom CA bundle PEM file\n"
            f"caused by: open {ca_bundle}: no such file or directory"
        )

    # resolveCredentials (credentials.go:33-64): an explicit profile skips environment keys.
    if profile_arg:
        creds = _profile_credentials(merged, file_creds, lookup)
    elif env_creds is not None:
        creds = env_creds
    elif environ.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
        raise NotEmulated(
            "AWS_WEB_IDENTITY_TOKEN_FILE (STS AssumeRoleWithWebIdentity) is not emulated"
        )
    else:
        creds = _profile_credentials(merged, file_creds, lookup)
    return SdkConfig(
        region=region,
        credentials=creds,
        credentials_error="" if creds else NO_CREDENTIAL_PROVIDERS,
        ca_bundle=ca_bundle,
        use_fips=fips,
        profile=lookup,
    )
