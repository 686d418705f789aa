"""The adapter file's keys, declared once: what each is, where it is allowed, what it means.

This table is data only (:class:`compat.adapter.keyspec.Key` says what a declaration holds).
The loader asks it, through :mod:`compat.adapter.lookup`, which keys a table accepts ("unknown
key … did you mean") and which choices and defaults a key has; ``compat.adapter.schema_doc``
writes the key tables of ``adapters/README.md`` from it, so the documentation cannot drift from
what is accepted.
"""

from __future__ import annotations

from typing import get_args

from compat.adapter.formats import SESSION_FORMATS, TARGET_FORMATS
from compat.adapter.keyspec import KINDS, MODES, Key
from compat.adapter.model import MAX_TIMEOUT, LaunchType, Reach
from compat.adapter.placeholders import Mode

__all__ = ["KEYS"]

REACHES: tuple[Reach, ...] = get_args(Reach)
VIA = ("flag", "env")
LAUNCH_TYPES: tuple[LaunchType, ...] = get_args(LaunchType)

_RUN: tuple[Mode, ...] = ("run",)
_REPLAY: tuple[Mode, ...] = ("replay",)

KEYS: tuple[Key, ...] = (
    # -- top level ---------------------------------------------------------------------------
    Key(
        "name",
        "tool",
        "string",
        "tool name: lowercase letters, digits, `.` `_` `-`, at most 64 characters; the first "
        "segment of cell ids",
        required=True,
    ),
    Key("homepage", "tool", "string", "where the tool lives", required=True),
    Key(
        "kind",
        "tool",
        "string",
        '`"ecs-exec"` (ECS tasks) or `"ssm-session"` (EC2 instances); a variant may override it',
        choices=KINDS,
        required=True,
    ),
    Key("description", "tool", "string", "one line for reports"),
    Key(
        "variant",
        "tool",
        "array of tables",
        "one table per release or way of running it",
        required=True,
    ),
    # -- every variant -----------------------------------------------------------------------
    Key("version", "variant", "string", "the version label shown in the matrix", required=True),
    Key("mode", "variant", "string", '`"run"` or `"replay"`', choices=MODES, required=True),
    Key(
        "id",
        "variant",
        "string",
        "the variant's segment in cell ids (`tool/id/scenario/release`, at most 64 characters); "
        "needed when two variants share a version",
        default="`version`",
    ),
    Key(
        "kind",
        "variant",
        "string",
        '`"ecs-exec"` or `"ssm-session"`',
        choices=KINDS,
        default="the tool's",
    ),
    Key(
        "reach",
        "variant",
        "string",
        'how the tool\'s AWS clients reach the fake AWS: `"endpoint"` (`AWS_ENDPOINT_URL`, plus '
        '`--endpoint-url {endpoint_url}` if your command passes it) or `"proxy"` (an '
        "intercepting HTTPS proxy, for SDKs that ignore endpoint settings, e.g. aws-sdk-go v1)",
        choices=REACHES,
        default='`"endpoint"`',
    ),
    Key(
        "tty",
        "variant",
        "boolean",
        "the tool needs a terminal; the runner gives it a pty",
        default="`false`",
    ),
    Key(
        "cluster",
        "variant",
        "string",
        "the only cluster name the tool finds tasks in (copilot `task exec --default`: "
        '`"default"`)',
    ),
    Key(
        "task_tags",
        "variant",
        "table of strings",
        "tags the seeded task carries, for tools that only list tagged tasks (copilot: "
        '`{ copilot-task = "…" }`); ecs-exec only. `ListTasks`, `DescribeTasks` with '
        '`include = ["TAGS"]` and `ListTagsForResource` show them',
        kinds=("ecs-exec",),
    ),
    Key(
        "instance_tags",
        "variant",
        "table of strings",
        "tags the seeded EC2 instance carries, for tools that find instances by tag (ssm-cli: "
        '`{ smp-group = "smp-web" }`); ssm-session only. `ec2:DescribeInstances` (tag '
        "filters), `ec2:DescribeTags`, `ssm:DescribeInstanceInformation` (`tag:<key>`, "
        "`tag-key`) and `resourcegroupstaggingapi:GetResources` show them. Cells with the same "
        "tags in a region take turns, and the instance is untagged and terminated when its cell "
        "ends, so the tool finds exactly one",
        kinds=("ssm-session",),
    ),
    Key(
        "launch_type",
        "variant",
        "string",
        'how the seeded task runs: `"FARGATE"`, or `"EC2"` on a registered container instance '
        "(`DescribeTasks` shows its `containerInstanceArn`, `DescribeContainerInstances` the "
        "EC2 host the cell also seeds, for tools that open a session to the task's host, "
        "ssm-ecs); ecs-exec only",
        kinds=("ecs-exec",),
        choices=LAUNCH_TYPES,
        default='`"FARGATE"`',
    ),
    Key(
        "session_document",
        "variant",
        "string",
        "an SSM Session document the cell seeds under this name (type `InteractiveCommands`, a "
        "`command` parameter, the scenario's KMS key), for tools that start a session with "
        'their own document name (ssm-ecs: `"RunCommand"`)',
    ),
    Key(
        "profile_via",
        "variant",
        "string",
        'how the user picks a profile: `"flag"` if a template uses `{profile}`, else `"env"` '
        "(`AWS_PROFILE`)",
        choices=VIA,
        default="derived",
    ),
    Key(
        "region_via",
        "variant",
        "string",
        'how the user picks a region: `"flag"` if a template uses `{user_region}`, else '
        '`"env"` (`AWS_REGION`)',
        choices=VIA,
        default="derived",
    ),
    Key(
        "timeout",
        "variant",
        "number",
        f"seconds (more than 0, at most {MAX_TIMEOUT:g}) before the cell's process group is "
        "killed (`timeout`)",
        default="runner's",
    ),
    Key(
        "notes",
        "variant",
        "string",
        "one line for reports (what this release gets wrong, the fixing commit)",
    ),
    Key(
        "env",
        "launch",
        "table of strings",
        "extra environment, `NAME = \"template\"` (run: the tool's; replay: the plugin's); names "
        "are letters, digits and `_`, not starting with a digit",
    ),
    Key(
        "port_forward",
        "variant",
        "table",
        "a table with the same launch keys for a port-forwarding session; without it the "
        "`port-forward` scenario is `n/a`",
    ),
    # -- run variants ------------------------------------------------------------------------
    Key(
        "command",
        "launch",
        "array",
        "the command line: `argv[0]` is the program (the runner replaces it with the resolved "
        "path), then strings with placeholders and optional groups",
        modes=_RUN,
    ),
    Key("requires", "variant", "table", "", modes=_RUN),
    Key(
        "pypi",
        "requires",
        "string",
        'a pip requirement installed into a cached venv (`"aws-gate==0.11.3"`); an installed '
        "distribution that satisfies it may be reused",
        modes=_RUN,
    ),
    Key("pypi_bundle", "requires", "string", "", modes=_RUN, shares_row=True),
    Key(
        "bundle_path",
        "requires",
        "string",
        "a program shipped *inside* a PyPI artifact, maybe archives deep: `pypi_bundle` is an "
        'exact pin (`"aws-cdk-asset-awscli-v2==2.0.198"`), `bundle_path` the way to the '
        "program, one glob per archive joined by `!` "
        '(`"aws_cdk/asset_awscli_v2/_jsii/*.jsii.tgz!package/lib/layer.zip!awscli/v2/*/dist/aws"`'
        "; `*` never crosses a `/`, and each step must match exactly one entry). The wheel is "
        "fetched once with `pip download` (your `PIP_*` settings apply), the program's whole "
        "directory is extracted into `$XDG_CACHE_HOME/smp-compat/bundles/` and reused; "
        "`--no-install` skips the download. `path_env`, when set, wins",
        modes=_RUN,
    ),
    Key(
        "go",
        "requires",
        "string",
        'a Go main package at a version, `"<package path>@v<version>"` '
        '(`"github.com/kayac/ecspresso/cmd/ecspresso@v1.5.9"`), built once from the Go module '
        "proxy into `$XDG_CACHE_HOME/smp-compat/go/`; no Go, a version the proxy does not serve "
        "or a compile error: `skipped` with Go's reason. The first build of a tool takes minutes "
        "(copilot-cli: 12 to 24 minutes on 2 busy cores), later runs reuse the binary",
        modes=_RUN,
    ),
    Key(
        "npm",
        "requires",
        "string",
        'an npm package at an exact version, `"<name>@<x.y.z>"` (`"basti@1.8.0"`), installed '
        "once with `npm install --ignore-scripts --omit=optional` into "
        "`$XDG_CACHE_HOME/smp-compat/npm/`; `command[0]` is one of its `bin` programs, run with "
        "`node` from PATH. Install scripts are not run, and optional dependencies are left out "
        "(basti's is a copy of AWS's plugin it would start instead of the fake). Your "
        "`npm_config_*` settings apply. No npm or node, a package the registry does not serve: "
        "`skipped` with npm's first error line (remembered for a day); `--no-install` skips the "
        "install",
        modes=_RUN,
    ),
    Key(
        "unavailable",
        "requires",
        "string",
        "why the kit cannot drive this tool at all (a terminal UI only, a plugin copy of its "
        "own): every cell is `skipped` with this sentence, whatever is installed. The adapter "
        "still documents the command and its `notes` the argv the source builds",
        modes=_RUN,
    ),
    Key(
        "binary",
        "requires",
        "string",
        'a program name looked up on PATH, or an absolute path (`"/usr/bin/aws"`)',
        modes=_RUN,
    ),
    Key(
        "path_env",
        "requires",
        "string",
        "an environment variable naming the program's path by absolute path; it wins over PATH "
        "when set (`SMP_COMPAT_ECSK=/opt/ecsk`). Its name must be `SMP_COMPAT_*` (another is "
        "refused when the file loads): the kit keeps no other variable of its environment "
        "(docs/isolation.md §1), and never shows the value in a report",
        modes=_RUN,
    ),
    Key("version_args", "requires", "array of strings", "", modes=_RUN, shares_row=True),
    Key(
        "version_match",
        "requires",
        "string",
        "run the program with these args (jailed, with a HOME of its own, like a cell's tool) "
        "and search the output for this regular expression (Python syntax, searched with the "
        "[`regex`](https://pypi.org/project/regex/) library and stopped after 1 s, so a pattern "
        "that backtracks without end, `^(a\\|aa)+$`, cannot hang the run); no match or no answer "
        "in time: `skipped` (tells AWS CLI v2 from v1)",
        modes=_RUN,
    ),
    Key("hint", "requires", "string", "how to install it, shown with `skipped`", modes=_RUN),
    Key(
        "files",
        "variant",
        "table of strings",
        'files written before the tool starts, `"path" = "template"`: a path starting with '
        '`~/` goes under the cell\'s HOME (`"~/.config/ssm-cli/ssm.yaml"`), any other relative '
        'path under its working directory, subdirectories created (`"conf/app.yaml"`, '
        "ecspresso's `ecspresso.yml`). Absolute paths, `..`, `.` or empty parts and `~user` are "
        "refused when the file loads; nothing is written through a symlink",
        modes=_RUN,
    ),
    Key(
        "image",
        "variant",
        "string",
        "run `command` inside this container image instead of on this machine "
        '(`"amazon/aws-cli:2.15.0"`, `"localhost/mytool:1"`); `command[0]` is then the program '
        "as the image knows it, and `requires` does not apply. The image must already be in the "
        "engine (nothing is pulled); without an engine or the image, cells are `skipped` with "
        'the reason. See "Tools that run as container images" in the top-level README',
        modes=_RUN,
        explained_elsewhere=True,
    ),
    # -- replay variants ---------------------------------------------------------------------
    Key(
        "source",
        "launch",
        "string",
        "`owner/repo@commit:path:line` (or `:line-line`) of the line that builds the argv",
        modes=_REPLAY,
        required=True,
    ),
    Key(
        "calls",
        "launch",
        "array of strings",
        "the API calls the release makes before starting the plugin, in order (table below)",
        modes=_REPLAY,
        required=True,
    ),
    Key(
        "argv",
        "launch",
        "array",
        "the plugin's argv as the release builds it, `argv[0]` as the release spells it",
        modes=_REPLAY,
        required=True,
    ),
    Key(
        "session",
        "launch",
        "string",
        "how the release serialises `{session_json}` (table below)",
        modes=_REPLAY,
        choices=tuple(SESSION_FORMATS),
    ),
    Key(
        "target",
        "launch",
        "string",
        'the `Target` string it builds, as a template (`"ecs:{cluster}_{task_id}_{runtime_id}"`)',
        modes=_REPLAY,
    ),
    Key(
        "target_format",
        "launch",
        "string",
        "how it serialises `{target_json}` (table below)",
        modes=_REPLAY,
        choices=tuple(TARGET_FORMATS),
    ),
    Key("document", "launch", "string", "", modes=_REPLAY, shares_row=True),
    Key(
        "parameters",
        "launch",
        "table of arrays of strings",
        '`DocumentName` and `Parameters` (`name = ["template", …]`) added to `{target_json}`, '
        "for port forwarding",
        modes=_REPLAY,
    ),
)
