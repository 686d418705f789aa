"""The ``image`` key of a run variant: loaded, validated, and refused where it cannot apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from compat.adapter.errors import AdapterError
from compat.adapter.load import load_adapter

HEAD = 'name = "mytool"\nhomepage = "https://example.org"\nkind = "ecs-exec"\n\n[[variant]]\n'
COMMAND = 'command = ["mytool", "exec", "--cluster", "{cluster}", "--task", "{task_id}"]\n'


def write(tmp_path: Path, variant: str) -> Path:
    path = tmp_path / "mytool.toml"
    path.write_text(HEAD + variant, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "image",
    [
        "amazon/aws-cli:2.15.0",
        "localhost/smp-compat-awscli:0697eb19c06feb2b",
        "localhost:5000/team/tool:v1.2_rc",
        "public.ecr.aws/aws-cli/aws-cli@sha256:" + "0" * 64,
    ],
)
def test_a_run_variant_may_name_an_image(tmp_path: Path, image: str) -> None:
    path = write(tmp_path, f'version = "1"\nmode = "run"\nimage = "{image}"\n{COMMAND}')
    assert load_adapter(path).variants[0].image == image


def test_without_image_the_variant_runs_on_this_machine(tmp_path: Path) -> None:
    path = write(tmp_path, f'version = "1"\nmode = "run"\n{COMMAND}')
    assert load_adapter(path).variants[0].image is None


@pytest.mark.parametrize(
    ("variant", "key", "fragment"),
    [
        pytest.param(
            f'version = "1"\nmode = "run"\nimage = "My Tool"\n{COMMAND}',
            "variant[0] (1).image",
            "expected an image reference such as amazon/aws-cli:2.15.0",
            id="not-a-reference",
        ),
        pytest.param(
            f'version = "1"\nmode = "run"\nimage = 3\n{COMMAND}',
            "variant[0] (1).image",
            "expected a string",
            id="not-a-string",
        ),
        pytest.param(
            'version = "1"\nmode = "run"\nimage = "a/b:1"\nrequires.pypi = "mytool"\n' + COMMAND,
            "variant[0] (1).image",
            "an image brings its own tool; remove requires",
            id="with-requires",
        ),
        pytest.param(
            'version = "1"\nmode = "replay"\nimage = "a/b:1"\nsource = "o/r@abc:f.go:1"\n'
            'calls = ["ecs.ExecuteCommand"]\n'
            'argv = ["session-manager-plugin", "{session_json}", "{region}", "StartSession"]\n',
            "variant[0] (1).image",
            'image applies to mode = "run" only',
            id="replay",
        ),
    ],
)
def test_a_bad_image_names_file_key_and_problem(
    tmp_path: Path, variant: str, key: str, fragment: str
) -> None:
    with pytest.raises(AdapterError) as caught:
        load_adapter(write(tmp_path, variant))
    text = str(caught.value)
    assert f"mytool.toml: {key}: " in text, text
    assert fragment in text, text


def test_the_readme_documents_the_image_key() -> None:
    readme = (Path(__file__).parents[3] / "adapters" / "README.md").read_text(encoding="utf-8")
    assert "| `image` |" in readme
