"""Files into the cell's HOME and working directory, {home}/{workdir}, instance tags: how an
adapter loads them and how the sandbox writes them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from compat.adapter.errors import AdapterError
from compat.adapter.load import file_path_problem, load_adapter
from compat.adapter.templating import render_argv, render_text
from compat.runner.errors import SandboxError
from compat.runner.sandbox import write_files


def _adapter(tmp_path: Path, variant: str, kind: str = "ssm-session") -> Path:
    path = tmp_path / "tool.toml"
    path.write_text(
        textwrap.dedent(
            f"""\
            name = "tool"
            homepage = "https://example.invalid/tool"
            kind = "{kind}"

            [[variant]]
            version = "1"
            mode = "run"
            requires.binary = "tool"
            """
        )
        + textwrap.dedent(variant),
        encoding="utf-8",
    )
    return path


def test_home_and_workdir_files_and_placeholders_load(tmp_path: Path) -> None:
    adapter = load_adapter(
        _adapter(
            tmp_path,
            """\
            command = ["tool", "--config", "{home}/.config/tool/c.yaml", "{instance_id}"]
            env = { TOOL_DIR = "{workdir}/conf" }
            instance_tags = { group = "web" }
            files = { "~/.config/tool/c.yaml" = "dir: {workdir}\\n", "conf/app.yaml" = "h: {home}" }
            """,
        )
    )
    (variant,) = adapter.variants
    assert variant.instance_tags == {"group": "web"}
    values = {"home": "/c/home", "workdir": "/c/work", "instance_id": "i-1"}
    rendered = {n: render_text(t, values) for n, t in variant.files.items()}
    assert rendered == {"~/.config/tool/c.yaml": "dir: /c/work\n", "conf/app.yaml": "h: /c/home"}
    argv = render_argv(variant.shell.template, values)
    assert argv[2] == "/c/home/.config/tool/c.yaml"
    assert render_text(variant.shell.env["TOOL_DIR"], values) == "/c/work/conf"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../home/.config/x", "the cell's HOME is ~/"),
        ("/etc/passwd", "found an absolute path"),
        ("~/../x", "'..' may not climb out"),
        ("~root/.bashrc", "~user is not the cell's"),
        ("~/", "found a directory"),
        ("conf/", "found a directory"),
        ("a\\b", "without backslashes"),
    ],
)
def test_a_files_path_out_of_the_cell_is_refused_with_the_way_in(name: str, message: str) -> None:
    problem = file_path_problem(name)
    assert problem is not None and message in problem


@pytest.mark.parametrize("name", ["ssm.yaml", "conf/app.yaml", "~/.config/ssm-cli/ssm.yaml"])
def test_paths_inside_the_cell_are_accepted(name: str) -> None:
    assert file_path_problem(name) is None


def test_the_loader_names_the_key_of_a_bad_path(tmp_path: Path) -> None:
    path = _adapter(
        tmp_path,
        """\
        command = ["tool", "{instance_id}"]
        files = { "../home/.config/tool/c.yaml" = "x" }
        """,
    )
    with pytest.raises(AdapterError) as caught:
        load_adapter(path)
    assert "files.../home/.config/tool/c.yaml: '..' may not climb out" in str(caught.value)
    assert "~/" in str(caught.value)


def test_tags_for_the_other_kind_of_target_are_refused(tmp_path: Path) -> None:
    path = _adapter(
        tmp_path,
        """\
        command = ["tool", "{cluster}"]
        instance_tags = { group = "web" }
        """,
        kind="ecs-exec",
    )
    with pytest.raises(AdapterError, match=r"instance_tags: this variant is ecs-exec.*task_tags"):
        load_adapter(path)


def test_files_land_in_home_and_workdir(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    write_files(home, work, {"~/.config/t/c.yaml": "a", "conf/app.yaml": "b", "top": "c"})
    assert (home / ".config/t/c.yaml").read_text() == "a"
    assert (work / "conf/app.yaml").read_text() == "b"
    assert (work / "top").read_text() == "c"


def test_a_symlink_never_leads_a_file_out_of_the_cell(tmp_path: Path) -> None:
    home, work, outside = tmp_path / "home", tmp_path / "work", tmp_path / "outside"
    for d in (home, work, outside):
        d.mkdir()
    (home / ".config").symlink_to(outside)
    with pytest.raises(SandboxError, match="not a directory of the cell"):
        write_files(home, work, {"~/.config/c.yaml": "x"})
    (work / "link").symlink_to(outside / "target")
    with pytest.raises(SandboxError, match="cannot write it"):
        write_files(home, work, {"link": "x"})
    assert list(outside.iterdir()) == []


def test_launch_type_and_session_document_load_for_an_ecs_tool(tmp_path: Path) -> None:
    path = _adapter(
        tmp_path,
        """\
        command = ["tool", "{cluster}"]
        launch_type = "EC2"
        session_document = "RunCommand"
        """,
        kind="ecs-exec",
    )
    (variant,) = load_adapter(path).variants
    assert (variant.launch_type, variant.session_document) == ("EC2", "RunCommand")


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("ssm-session", '"EC2"', r"launch_type: this variant is ssm-session"),
        ("ecs-exec", '"EXTERNAL"', r"launch_type: .*FARGATE.*EC2"),
    ],
)
def test_a_launch_type_the_kit_cannot_seed_is_refused(
    tmp_path: Path, kind: str, value: str, message: str
) -> None:
    path = _adapter(tmp_path, f'command = ["tool"]\nlaunch_type = {value}\n', kind=kind)
    with pytest.raises(AdapterError, match=message):
        load_adapter(path)
