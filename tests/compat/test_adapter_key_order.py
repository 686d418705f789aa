"""An unknown adapter key's "expected one of..." lists the keys in one order, whatever the hash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_LOAD = (
    "import sys\n"
    "from compat.adapter.errors import AdapterError\n"
    "from compat.adapter.load import load_adapter\n"
    "try:\n"
    "    load_adapter(sys.argv[1])\n"
    "except AdapterError as exc:\n"
    "    print(exc)\n"
)


def _message(adapter: Path, hash_seed: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    done = subprocess.run(
        [sys.executable, "-c", _LOAD, str(adapter)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def test_expected_keys_keep_their_order_across_hash_seeds(tmp_path: Path) -> None:
    adapter = tmp_path / "bad.toml"
    adapter.write_text(
        'name = "bad"\nhomepage = "x"\nkind = "ecs-exec"\n'
        '[[variant]]\nversion = "1"\nmode = "bogus"\ncomand = ["x"]\n'
    )
    first = _message(adapter, "1")
    assert "comand: unknown key" in first and "expected one of" in first
    assert all(_message(adapter, seed) == first for seed in ("2", "3"))
