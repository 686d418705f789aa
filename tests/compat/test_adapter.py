"""Adapter files: loading, validation messages, built-in adapters, templates and formats."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compat.adapter.errors import AdapterError
from compat.adapter.formats import SessionFields, session_json, target_json
from compat.adapter.load import builtin_paths, load_adapter, load_adapters
from compat.adapter.placeholders import PLACEHOLDERS
from compat.adapter.templating import (
    MissingValueError,
    TemplateSyntaxError,
    Text,
    parse,
    render_argv,
    render_text,
)
from compat.errors import UserError

DATA = Path(__file__).parent / "data" / "adapters"
README = Path(__file__).parents[2] / "adapters" / "README.md"

#: Values a runner would fill for an ECS cell (names follow docs/plugin.md §2.3's target format).
ECS_VALUES: dict[str, str | None] = {
    "cluster": "c1",
    "cluster_arn": "arn:aws:ecs:us-east-1:123456789012:cluster/c1",
    "service": "svc",
    "task_family": "fam",
    "task_id": "t1",
    "task_arn": "arn:aws:ecs:us-east-1:123456789012:task/c1/t1",
    "container": "app",
    "runtime_id": "t1-42",
    "ssm_target": "ecs:c1_t1_t1-42",
    "command": "/bin/sh",
    "region": "us-east-1",
    "user_region": None,
    "profile": None,
    "endpoint_url": "http://127.0.0.1:5000",
    "plugin": "/sandbox/bin/session-manager-plugin",
    "ecs_endpoint": "https://ecs.us-east-1.amazonaws.com",
    "ssm_endpoint": "https://ssm.us-east-1.amazonaws.com",
    "session_json": "SESSION",
    "session_id": "sid",
    "target_json": "TARGET",
    "poll_endpoint": "https://ecs-a-1.us-east-1.amazonaws.com/",
}


# -- malformed files -----------------------------------------------------------------------------

BAD = [
    pytest.param("syntax.toml", "", "invalid TOML: Invalid value", id="toml-syntax"),
    pytest.param(
        "unknown_tool_key.toml", "homepgae", "did you mean 'homepage'?", id="unknown-tool-key"
    ),
    pytest.param(
        "unknown_variant_key.toml",
        "variant[0] (1).comand",
        "did you mean 'command'?",
        id="unknown-variant-key",
    ),
    pytest.param(
        "replay_key_in_run.toml",
        "variant[0] (1).argv",
        "it is a replay variant's key; this one is mode = 'run'",
        id="replay-key-in-run",
    ),
    pytest.param(
        "unknown_placeholder.toml",
        "variant[0] (2.0).argv[1]",
        "unknown placeholder {sesion_json}; did you mean {session_json}?",
        id="unknown-placeholder",
    ),
    pytest.param(
        "wrong_type.toml",
        "variant[0] (1).tty",
        "expected true or false, found string 'yes'",
        id="wrong-type",
    ),
    pytest.param(
        "bad_mode.toml",
        "variant[0] (1).mode",
        "expected one of \"run\", \"replay\", found 'replays'; did you mean 'replay'?",
        id="bad-mode",
    ),
    pytest.param(
        "missing_source.toml", "variant[0] (1).source", "missing; expected", id="missing-source"
    ),
    pytest.param(
        "bad_source.toml",
        "variant[0] (1).source",
        "expected owner/repo@commit:path:line",
        id="bad-source",
    ),
    pytest.param(
        "profile_not_optional.toml",
        "variant[0] (1).command[2]",
        "{profile} may be unset; put it in an optional group",
        id="optional-placeholder-outside-group",
    ),
    pytest.param(
        "kind_mismatch.toml",
        "variant[0] (1).command[1]",
        "{instance_id} is for ssm-session tools; this variant is ecs-exec",
        id="kind-mismatch",
    ),
    pytest.param(
        "missing_call.toml",
        "variant[0] (0.6.1).argv[6]",
        '{poll_endpoint} needs one of these in `calls`: "ecs.DiscoverPollEndpoint"',
        id="placeholder-needs-call",
    ),
    pytest.param(
        "bad_format.toml",
        "variant[0] (1).session",
        'expected one of "go", "python-ecs-session", "python-ssm-response", found \'golang\'',
        id="unknown-serialisation",
    ),
    pytest.param(
        "dup_variant.toml",
        "variant[1] (1)",
        "id '1' is already used by variant[0]",
        id="duplicate-variant-id",
    ),
    pytest.param("brace.toml", "variant[0] (1).command[2]", "write {{ for a literal", id="brace"),
    pytest.param(
        "useless_group.toml",
        "variant[0] (1).command[1]",
        "no placeholder that can be unset",
        id="group-always-kept",
    ),
]


@pytest.mark.parametrize(("name", "key", "fragment"), BAD)
def test_malformed_file_names_file_key_and_problem(name: str, key: str, fragment: str) -> None:
    path = DATA / "bad" / name
    with pytest.raises(AdapterError) as info:
        load_adapter(path)
    error = info.value
    assert isinstance(error, UserError)
    assert error.path == path
    assert any(p.key == key and fragment in p.message for p in error.problems), error.problems
    line = next(line for line in str(error).splitlines() if fragment in line)
    assert line.startswith(str(path))
    if key:
        assert f": {key}: " in line


def test_toml_syntax_error_has_line_and_column() -> None:
    with pytest.raises(AdapterError) as info:
        load_adapter(DATA / "bad" / "syntax.toml")
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (5, 11)
    assert str(info.value) == f"{DATA / 'bad' / 'syntax.toml'}:5:11: invalid TOML: Invalid value"


def test_all_problems_of_a_file_are_reported_together() -> None:
    with pytest.raises(AdapterError) as info:
        load_adapter(DATA / "bad" / "missing_call.toml")
    keys = [p.key for p in info.value.problems]
    assert keys == ["variant[0] (0.6.1).target", "variant[0] (0.6.1).argv[6]"]


def test_duplicate_tool_names_across_files_name_both() -> None:
    with pytest.raises(AdapterError) as info:
        load_adapters([DATA / "dup"], builtin=False)
    text = str(info.value)
    assert str(DATA / "dup" / "b.toml") in text
    assert f"already defined in {DATA / 'dup' / 'a.toml'}" in text


def test_user_adapter_cannot_shadow_a_builtin(tmp_path: Path) -> None:
    copy = tmp_path / "ecspresso.toml"
    copy.write_text((DATA / "good" / "mytool.toml").read_text().replace("mytool", "ecspresso"))
    with pytest.raises(AdapterError, match="'ecspresso' is already defined in"):
        load_adapters([copy])


def test_errors_of_several_files_are_all_reported() -> None:
    with pytest.raises(AdapterError) as info:
        load_adapters(
            [DATA / "bad" / "wrong_type.toml", DATA / "bad" / "bad_mode.toml"], builtin=False
        )
    text = str(info.value)
    assert "wrong_type.toml" in text
    assert "bad_mode.toml" in text


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        pytest.param(lambda d: d / "missing.toml", "cannot read", id="missing-file"),
        pytest.param(lambda d: d, "no *.toml adapter files", id="empty-directory"),
    ],
)
def test_unreadable_inputs_are_user_errors(tmp_path: Path, setup, fragment: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AdapterError, match=re.escape(fragment)):
        load_adapters([setup(tmp_path)], builtin=False)


# -- good files --------------------------------------------------------------------------------


def test_readme_ten_line_example_loads_and_renders() -> None:
    """The README's example is the fixture: they must not drift apart."""
    example = (DATA / "good" / "mytool.toml").read_text()
    assert example.strip() in README.read_text()
    assert len(example.strip().splitlines()) <= 11
    adapter = load_adapter(DATA / "good" / "mytool.toml")
    variant = adapter.variants[0]
    assert (variant.id, variant.mode, variant.reach, variant.tty) == (
        "1.2.3",
        "run",
        "endpoint",
        False,
    )
    assert variant.requires is not None and variant.requires.pypi == "mytool==1.2.3"
    assert variant.profile_via == "flag"
    argv = render_argv(variant.shell.template, ECS_VALUES)
    assert argv == [
        "mytool",
        "exec",
        "--cluster",
        "c1",
        "--task",
        "t1",
        "--container",
        "app",
        "--",
        "/bin/sh",
    ]
    with_profile = render_argv(variant.shell.template, {**ECS_VALUES, "profile": "p1"})
    assert with_profile[-4:-2] == ["--profile", "p1"]


def test_env_var_mode_replay_with_port_forward() -> None:
    variant = load_adapter(DATA / "good" / "envmode.toml").variants[0]
    shell = variant.shell
    assert set(shell.env) == {"AWS_SSM_START_SESSION_RESPONSE"}
    assert render_text(shell.env["AWS_SSM_START_SESSION_RESPONSE"], ECS_VALUES) == "SESSION"
    assert render_argv(shell.template, ECS_VALUES)[4] == ""  # {profile?}
    forward = variant.launches["port-forward"]
    assert (
        forward.target is not None and forward.target.document == "AWS-StartPortForwardingSession"
    )
    assert forward.env == shell.env  # inherited from the variant


# -- built-in adapters ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def builtins() -> dict[str, object]:
    return {a.name: a for a in load_adapters()}


def test_builtins_ship_as_package_data() -> None:
    names = {p.name for p in builtin_paths()}
    assert {
        "ecspresso.toml",
        "ecsk.toml",
        "copilot.toml",
        "ecsta.toml",
        "awscli-v1.toml",
        "awscli-v2.toml",
        "aws-gate.toml",
        "aws-ssm-juggle.toml",
        "ssm-cli.toml",
        "ssm-ecs.toml",
    } <= names


def _variant(name: str, variant_id: str):  # type: ignore[no-untyped-def]
    adapters = {a.name: a for a in load_adapters()}
    return adapters[name].variant(variant_id)


#: (tool, variant, argv length, argv[5] Target placeholder source) per docs/callers.md §1.
REPLAYS = [
    pytest.param("ecspresso", "1.5.9", 4, None, id="ecspresso-1.5.9-legacy"),
    pytest.param(
        "ecspresso", "1.6.0", 7, "ecs:{cluster}_{task_id}_{runtime_id}", id="ecspresso-1.6.0"
    ),
    pytest.param(
        "ecspresso", "2.3.2", 7, "ecs:{cluster}_{task_id}_{runtime_id}", id="ecspresso-2.3.2"
    ),
    pytest.param("ecsk", "0.6.1", 7, "ecs:{cluster}_{task_id}_", id="ecsk-0.6.1-empty-runtime"),
    pytest.param("ecsk", "0.6.2", 7, "ecs:{cluster}_{task_id}_{runtime_id}", id="ecsk-0.6.2"),
    pytest.param("copilot", "1.33.2", 4, None, id="copilot-legacy"),
    pytest.param("ecsta", "0.6.1", 7, "ecs:{cluster}_{task_id}_{runtime_id}", id="ecsta-0.6.1"),
    pytest.param("ecsta", "0.6.2", 7, "ecs:{cluster}_{task_id}_{runtime_id}", id="ecsta-0.6.2"),
    pytest.param("aws-gate", "0.4.3", 4, None, id="aws-gate-0.4.3-legacy"),
]


@pytest.mark.parametrize(("tool", "variant_id", "argc", "target"), REPLAYS)
def test_builtin_replays_match_callers_md(
    tool: str, variant_id: str, argc: int, target: str | None
) -> None:
    variant = _variant(tool, variant_id)
    assert variant.mode == "replay"
    launch = variant.shell
    assert launch.source is not None and re.fullmatch(r"[0-9a-f]{40}", launch.source.commit)
    assert launch.source.url.startswith(f"https://github.com/{launch.source.repo}/blob/")
    argv = render_argv(launch.template, ECS_VALUES)
    assert len(argv) == argc
    assert argv[:4] == ["session-manager-plugin", "SESSION", "us-east-1", "StartSession"]
    assert (launch.target.value.source if launch.target else None) == target


@pytest.mark.parametrize(
    ("tool", "variant_id", "argv6"),
    [
        pytest.param(
            "ecspresso", "1.6.0", "https://ecs.us-east-1.amazonaws.com", id="ecspresso-ecs-url"
        ),
        pytest.param(
            "ecspresso", "2.3.2", "https://ecs-a-1.us-east-1.amazonaws.com/", id="ecspresso-v2-poll"
        ),
        pytest.param("ecsk", "0.6.1", "us-east-1", id="ecsk-region-as-endpoint"),
        pytest.param(
            "ecsk", "0.6.2", "https://ecs.us-east-1.amazonaws.com", id="ecsk-hardcoded-ecs"
        ),
        pytest.param("ecsta", "0.6.1", "https://ecs-a-1.us-east-1.amazonaws.com/", id="ecsta-poll"),
        pytest.param("ecsta", "0.6.2", "https://ecs.us-east-1.amazonaws.com", id="ecsta-resolver"),
    ],
)
def test_builtin_replay_endpoint_argument(tool: str, variant_id: str, argv6: str) -> None:
    launch = _variant(tool, variant_id).shell
    assert render_argv(launch.template, ECS_VALUES)[6] == argv6


def test_ecsk_forwards_the_chosen_profile_and_empty_otherwise() -> None:
    launch = _variant("ecsk", "0.6.2").shell
    assert render_argv(launch.template, ECS_VALUES)[4] == ""
    assert render_argv(launch.template, {**ECS_VALUES, "profile": "p1"})[4] == "p1"


@pytest.mark.parametrize(
    ("tool", "variant_id", "requirement"),
    [
        pytest.param("awscli-v1", "ecs-exec", "pypi", id="awscli-v1"),
        pytest.param("awscli-v2", "ecs-exec", "pypi_bundle", id="awscli-v2"),
        pytest.param("awscli-v2", "ecs-exec-2.12.7", "pypi_bundle", id="awscli-v2-2.12.7"),
        pytest.param("aws-gate", "0.11.3", "pypi", id="aws-gate"),
        pytest.param("aws-ssm-juggle", "26.3.0", "pypi", id="juggle"),
        pytest.param("ssm-cli", "1.1.0", "pypi", id="ssm-cli"),
        pytest.param("ssm-ecs", "0.6", "pypi", id="ssm-ecs"),
        pytest.param("pysshm", "0.3.3", "pypi", id="pysshm"),
        pytest.param("ecs-exec", "0.0.4", "pypi", id="ecs-exec"),
        pytest.param("copilot", "1.34.1", "pypi", id="copilot"),
        pytest.param("ecspresso", "installed", "binary", id="ecspresso"),
        pytest.param("ecsk", "installed", "binary", id="ecsk"),
        pytest.param("ecsta", "installed", "binary", id="ecsta"),
    ],
)
def test_builtin_run_variants_say_what_to_install(
    tool: str, variant_id: str, requirement: str
) -> None:
    variant = _variant(tool, variant_id)
    assert variant.mode == "run"
    assert variant.requires is not None
    assert getattr(variant.requires, requirement)
    argv = render_argv(variant.shell.template, {**ECS_VALUES, "instance_id": "i-0123456789abcdef0"})
    assert not any("{" in a for a in argv)


def test_ssm_ecs_is_seeded_on_an_ec2_host_with_its_run_command_document() -> None:
    # ssmecs/ssm_ecs.py start: containerInstanceArn -> ec2InstanceId, DocumentName "RunCommand".
    variant = _variant("ssm-ecs", "0.6")
    assert (variant.launch_type, variant.session_document) == ("EC2", "RunCommand")
    assert variant.requires is not None and variant.requires.unavailable is None


def test_copilot_runs_through_the_proxy_in_the_default_cluster() -> None:
    variant = _variant("copilot", "1.34.1")
    assert (variant.reach, variant.cluster) == ("proxy", "default")
    assert "--yes=false" in render_argv(variant.shell.template, ECS_VALUES)


def test_ecspresso_run_writes_its_config_files() -> None:
    variant = _variant("ecspresso", "installed")
    files = {name: render_text(text, ECS_VALUES) for name, text in variant.files.items()}
    assert "cluster: c1" in files["ecspresso.yml"]
    assert json.loads(files["ecs-task-def.json"])["family"] == "fam"


def test_readme_documents_every_placeholder_and_key() -> None:
    readme = README.read_text()
    for name in PLACEHOLDERS:
        assert f"`{{{name}}}`" in readme, name
    for key in (
        "reach",
        "tty",
        "requires.pypi",
        "requires.binary",
        "requires.path_env",
        "calls",
        "session",
        "target_format",
        "port_forward",
        "files",
        "profile_via",
        "task_tags",
        "instance_tags",
    ):
        assert f"`{key}`" in readme, key


# -- templating --------------------------------------------------------------------------------

TEMPLATE_ERRORS = [
    pytest.param("{", "unclosed '{'", id="unclosed"),
    pytest.param("a}b", "single '}'", id="single-close"),
    pytest.param("{Cluster}", "bad placeholder {Cluster}", id="uppercase"),
    pytest.param("{}", "bad placeholder {}", id="empty"),
]


@pytest.mark.parametrize(("template", "fragment"), TEMPLATE_ERRORS)
def test_template_syntax_errors(template: str, fragment: str) -> None:
    with pytest.raises(TemplateSyntaxError, match=re.escape(fragment)):
        parse(template)


def test_escaped_braces_and_optional_empty() -> None:
    text = parse('{{"Target": "{ssm_target}"}}{profile?}')
    assert render_text(text, {"ssm_target": "i-1", "profile": None}) == '{"Target": "i-1"}'


def test_missing_required_value_is_reported_by_name() -> None:
    with pytest.raises(MissingValueError, match=r"\{cluster\}"):
        render_text(parse("{cluster}"), {})


_names = st.sampled_from(sorted(PLACEHOLDERS))
_literal = st.text(alphabet=string.ascii_letters + string.digits + " -_=:/.", max_size=8)
_piece = st.one_of(
    _literal, _names.map(lambda n: "{" + n + "}"), _names.map(lambda n: "{" + n + "?}")
)
_template = st.lists(_piece, max_size=6).map("".join)
_values = st.dictionaries(_names, st.one_of(st.none(), st.text(max_size=12)))


@given(
    template=_template,
    values=st.dictionaries(_names, st.text(max_size=12), min_size=len(PLACEHOLDERS)),
)
def test_rendering_never_leaves_a_placeholder(template: str, values: dict[str, str]) -> None:
    """With every value set, no ``{name}`` of the template survives unless a value brought it."""
    out = render_text(parse(template), values)
    if not any("{" in v or "}" in v for v in values.values()):
        assert "{" not in out and "}" not in out


@given(
    items=st.lists(
        st.one_of(_template, st.lists(_template, min_size=1, max_size=3)), min_size=1, max_size=5
    ),
    values=_values,
)
def test_render_argv_never_raises_except_for_unset_required(
    items: list[object], values: dict[str, str | None]
) -> None:
    argv = tuple(parse(i) if isinstance(i, str) else tuple(parse(s) for s in i) for i in items)  # type: ignore[union-attr]
    try:
        out = render_argv(argv, values)
    except MissingValueError as exc:
        plain = [i for i in argv if isinstance(i, Text)]
        assert any(p.name == exc.name and not p.empty_if_unset for t in plain for p in t.parts)
        assert values.get(exc.name) is None
        return
    assert len(out) >= sum(1 for i in argv if isinstance(i, Text))


@given(value=st.text())
def test_values_are_inserted_verbatim(value: str) -> None:
    assert render_argv((parse("--x={command}"),), {"command": value}) == [f"--x={value}"]


# -- serialisations ----------------------------------------------------------------------------

SESSION = SessionFields(
    "sid-1", "wss://h/v1/data-channel/sid-1?role=publish_subscribe&cell-number=AA", "tok"
)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        pytest.param(
            "go",
            '{"SessionId":"sid-1","StreamUrl":"wss://h/v1/data-channel/sid-1?role=publish_subscribe'
            '\\u0026cell-number=AA","TokenValue":"tok"}',
            id="go-escapes-ampersand",
        ),
        pytest.param(
            "python-ecs-session",
            '{"sessionId": "sid-1", "streamUrl": "wss://h/v1/data-channel/sid-1?role=publish_subscribe'
            '&cell-number=AA", "tokenValue": "tok"}',
            id="aws-cli-ecs",
        ),
    ],
)
def test_session_json_formats(fmt: str, expected: str) -> None:
    assert session_json(fmt, SESSION) == expected  # type: ignore[arg-type]


def test_python_ssm_response_keeps_response_metadata() -> None:
    text = session_json("python-ssm-response", SESSION, {"RequestId": "r", "HTTPStatusCode": 200})
    assert list(json.loads(text)) == ["SessionId", "TokenValue", "StreamUrl", "ResponseMetadata"]


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        pytest.param("go", '{"Target":"ecs:c_t_r"}', id="go"),
        pytest.param(
            "go-sdk-v2-start-session-input",
            '{"Target":"ecs:c_t_r","DocumentName":null,"Parameters":null}',
            id="ecsk",
        ),
        pytest.param("python", '{"Target": "ecs:c_t_r"}', id="python"),
    ],
)
def test_target_json_formats(fmt: str, expected: str) -> None:
    assert target_json(fmt, "ecs:c_t_r") == expected  # type: ignore[arg-type]
