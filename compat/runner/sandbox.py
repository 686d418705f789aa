"""A sandbox per cell: own HOME, AWS files, fake keys, a bin dir with the plugin, a record file.

Nothing of the user's environment leaks in (no ``~/.aws``, no inherited ``AWS_*``), so a cell
can neither use nor harm a real account.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from compat.evidence.records import read_records
from compat.launcher import Launcher, write_launcher
from compat.launcher.shim import write_shim
from compat.runner.cellfiles import write_inside
from compat.runner.errors import SandboxError, UnsafeFilePathError

if TYPE_CHECKING:
    from compat.fakeaws import Credentials, FakeAWS
    from compat.plan.scenario import Scenario
    from fake_plugin.record import PluginRecord

#: System directories a tool may need (``sh``, ``env``, ``openssl``...); never the user's PATH.
SYSTEM_PATH = ("/usr/local/bin", "/usr/bin", "/bin")


@dataclass(frozen=True)
class Sandbox:
    """The directories and environment of one cell."""

    root: Path
    home: Path
    bin_dir: Path
    record_file: Path
    env: dict[str, str]

    @property
    def aws_config(self) -> Path:
        return self.home / ".aws" / "config"

    @property
    def aws_credentials(self) -> Path:
        return self.home / ".aws" / "credentials"

    def records(self) -> list[PluginRecord]:
        """The plugin starts recorded so far, oldest first (start and end lines merged)."""
        return read_records(self.record_file)


def make_sandbox(
    root: Path,
    fake_env: Mapping[str, str],
    *,
    release: str | None = None,
    real_plugin: Path | None = None,
    tool_dirs: Sequence[Path] = (),
    aws_config: str = "",
    aws_credentials: str = "",
    launcher: Launcher | None = None,
) -> Sandbox:
    """Lay out ``root`` and return the environment a tool runs with.

    ``fake_env`` comes from :meth:`compat.fakeaws.FakeAWS.env` (endpoint, proxy, CA, keys,
    region); a scenario removes or moves keys before calling this. ``tool_dirs`` go on PATH
    after the sandbox's own bin dir, so the shim always wins over any other plugin. With a
    ``launcher`` (a running :class:`compat.launcher.PluginServer`'s), the fake plugin is the
    native launcher, which hands each start to that server; the shim is its fallback.
    """
    home = root / "home"
    bin_dir = root / "bin"
    record_file = root / "plugin-record.jsonl"
    (home / ".aws").mkdir(parents=True, exist_ok=True)
    (home / ".aws" / "config").write_text(aws_config, encoding="utf-8")
    (home / ".aws" / "credentials").write_text(aws_credentials, encoding="utf-8")
    if launcher is not None and real_plugin is None:
        write_launcher(bin_dir, launcher, release=release, record=record_file)
    else:
        write_shim(bin_dir, release=release, record=record_file, real=real_plugin)
    path = os.pathsep.join([str(bin_dir), *(str(d) for d in tool_dirs), *SYSTEM_PATH])
    env = {
        "HOME": str(home),
        "PATH": path,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
        "TMPDIR": str(root),
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_PAGER": "",
        **fake_env,
    }
    return Sandbox(root=root, home=home, bin_dir=bin_dir, record_file=record_file, env=env)


def write_files(home: Path, work: Path, files: Mapping[str, str]) -> None:
    """Write an adapter's ``files`` (already rendered): ``~/…`` under ``home``, other paths
    under ``work``, parents created, never through a symlink
    (:func:`compat.runner.cellfiles.write_inside`)."""
    for name, text in files.items():
        base, rest = (home, name[2:]) if name.startswith("~/") else (work, name)
        try:
            write_inside(base, rest, text)
        except UnsafeFilePathError as exc:
            raise SandboxError(f"files.{name}: {exc}") from None


_KEY_NAMES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_REGION_NAMES = ("AWS_REGION", "AWS_DEFAULT_REGION")


@dataclass(frozen=True)
class AwsSetup:
    """What a scenario puts in the cell's AWS files and environment."""

    config: str
    credentials: str
    env: dict[str, str]


def aws_setup(
    fake_env: Mapping[str, str],
    *,
    credentials: str,
    region_source: str,
    default_region: str,
    profile_name: str | None,
    user_profile: str | None,
    user_region: str | None,
    profile_via: str,
    region_via: str,
) -> AwsSetup:
    """Move the fake keys and region where the scenario says they live.

    ``credentials``: ``default-profile`` (``[default]`` in the credentials file),
    ``named-profile`` (only ``[profile_name]``) or ``env`` (only ``AWS_ACCESS_KEY_ID``…);
    ``region_source``: ``config``, ``env`` or ``none``. What the user chose goes where the
    tool reads it: a flag (the runner fills ``{profile}``/``{user_region}``) or ``AWS_PROFILE``
    / ``AWS_REGION`` in the environment (``profile_via``/``region_via`` = ``"env"``).
    """
    env = {k: v for k, v in fake_env.items() if k not in _KEY_NAMES + _REGION_NAMES}
    key_id = fake_env["AWS_ACCESS_KEY_ID"]
    secret = fake_env["AWS_SECRET_ACCESS_KEY"]
    keys = f"aws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"
    config_lines: list[str] = []
    creds_lines: list[str] = []
    section = "default"
    if credentials == "env":
        env["AWS_ACCESS_KEY_ID"] = key_id
        env["AWS_SECRET_ACCESS_KEY"] = secret
    elif credentials == "named-profile":
        section = profile_name or "default"
        creds_lines.append(f"[{section}]\n{keys}")
    else:
        creds_lines.append(f"[default]\n{keys}")
    if region_source == "config":
        config_lines.append(f"[default]\nregion = {default_region}\n")
        if section != "default":
            config_lines.append(f"[profile {section}]\nregion = {default_region}\n")
    elif region_source == "env":
        env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = default_region
    if user_profile is not None and profile_via == "env":
        env["AWS_PROFILE"] = user_profile
    if user_region is not None and region_via == "env":
        env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = user_region
    return AwsSetup("\n".join(config_lines), "\n".join(creds_lines), env)


def scenario_aws_setup(
    fake_env: Mapping[str, str], scenario: Scenario, *, profile_via: str, region_via: str
) -> AwsSetup:
    """:func:`aws_setup` for a scenario: where its sandbox keeps credentials and region, and
    what its user chose (passed by flag or by env, as the tool takes them)."""
    return aws_setup(
        fake_env,
        credentials=scenario.sandbox.credentials,
        region_source=scenario.sandbox.region_source,
        default_region=scenario.sandbox.default_region,
        profile_name=scenario.sandbox.profile_name,
        user_profile=scenario.user.profile,
        user_region=scenario.user.region,
        profile_via=profile_via,
        region_via=region_via,
    )


def scenario_sandbox(
    root: Path,
    fake: FakeAWS,
    creds: Credentials,
    scenario: Scenario,
    *,
    profile_via: str,
    region_via: str,
    release: str | None,
    real_plugin: Path | None = None,
    tool_dirs: Sequence[Path] = (),
    launcher: Launcher | None = None,
) -> Sandbox:
    """The sandbox of one session of ``scenario`` signed with ``creds``, its keys and region
    where the scenario keeps them: one way for a matrix cell and the pytest harness."""
    setup = scenario_aws_setup(
        fake.env(creds, region=scenario.sandbox.default_region),
        scenario,
        profile_via=profile_via,
        region_via=region_via,
    )
    return make_sandbox(
        root,
        setup.env,
        release=release,
        real_plugin=real_plugin,
        tool_dirs=tool_dirs,
        aws_config=setup.config,
        aws_credentials=setup.credentials,
        launcher=launcher,
    )
