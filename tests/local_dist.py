"""A local Python distribution pip installs offline: an in-tree build backend (no setuptools,
no index) that writes a wheel with one console script, and may run code while it builds."""

from __future__ import annotations

import textwrap
from pathlib import Path

__all__ = ["local_distribution"]

_BACKEND = """\
import base64, hashlib, os, zipfile
{prelude}

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    {on_build}
    info = "{name}-1.0.dist-info"
    files = {{
        "{name}.py": "def main():\\n    print('{name}')\\n",
        f"{{info}}/METADATA": "Metadata-Version: 2.1\\nName: {name}\\nVersion: 1.0\\n",
        f"{{info}}/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\n"
        "Root-Is-Purelib: true\\nTag: py3-none-any\\n",
        f"{{info}}/entry_points.txt": "[console_scripts]\\n{name} = {name}:main\\n",
    }}
    record = ""
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record += f"{{path}},sha256={{digest.decode()}},{{len(text.encode())}}\\n"
    files[f"{{info}}/RECORD"] = record + f"{{info}}/RECORD,,\\n"
    wheel_name = "{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)
    return wheel_name
"""


def local_distribution(
    directory: Path, name: str, *, prelude: str = "", on_build: str = "pass"
) -> Path:
    """``directory`` made a source tree of distribution ``name`` (script ``name``); pip builds
    it with ``PIP_NO_INDEX=1``. ``prelude`` is module code of the backend, ``on_build`` one
    statement run as the wheel is built (a build script's chance to do harm)."""
    directory.mkdir(parents=True, exist_ok=True)
    backend = _BACKEND.format(name=name, prelude=prelude, on_build=on_build)
    (directory / f"{name}_backend.py").write_text(backend, encoding="utf-8")
    (directory / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [build-system]
            requires = []
            build-backend = "{name}_backend"
            backend-path = ["."]
            """
        ),
        encoding="utf-8",
    )
    return directory
