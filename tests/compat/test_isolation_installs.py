"""An install step's code sees none of the invoking user's secrets (issue 13, installs).

Written as the attack: a package whose PEP 517 build backend (it runs during ``pip install``)
reads the invoking user's ``~/.aws/credentials`` by absolute path, its parents'
``/proc/<pid>/environ`` up to PID 1 and every other process's it can see, and writes what it
found to a file. Under the jail it finds nothing, yet reaches the same network as the kit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from compat.install import pypi_venv
from compat.isolation import jail
from compat.isolation.jail import run_jailed
from tests.local_dist import local_distribution

#: A real-looking key in the environment of a process of the invoking user (the kit in CI).
ENV_SECRET = "k9Tq2vR8sX4mN7pL1wZ5yB3cD6fG0hJ8aE2iU4oP"
#: The secret in the invoking user's ~/.aws/credentials.
FILE_SECRET = "Fi1eS3cretFromTheInvokersHomeDir0123456789"

jailed = pytest.mark.skipif(
    jail.isolation().mode != "pidns" or not jail.isolation().hidden,
    reason="this machine allows no PID and mount namespace for the jail",
)

#: The attacker: every source it could read, the secrets found in them, its namespaces.
PROBE = """\
import glob, json, os

def snoop(found_in, creds):
    sources = {{}}
    pid = os.getpid()
    paths = [creds]
    while pid > 1:  # up the parent chain: pip, the jail (or the kit)
        try:
            with open(f"/proc/{{pid}}/status") as status:
                pid = int(next(l for l in status if l.startswith("PPid:")).split()[1])
        except (OSError, StopIteration):
            break
        paths.append(f"/proc/{{pid}}/environ")
    paths += glob.glob("/proc/[0-9]*/environ")
    for path in paths:
        try:
            with open(path, "rb") as handle:
                sources[path] = handle.read()
        except OSError:
            sources[path] = b""
    leaks = sorted({{where for where, data in sources.items()
                    for secret in {secrets!r} if secret.encode() in data}})
    with open(found_in, "w") as out:
        json.dump({{"read": len(sources), "leaks": leaks,
                   "net": os.readlink("/proc/self/ns/net"),
                   "pid": os.readlink("/proc/self/ns/pid")}}, out)
"""


@pytest.fixture
def invoker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The invoking user: a home with ~/.aws/credentials, and a process of theirs whose
    environment holds a key (as the kit's did before it re-executed clean)."""
    home = tmp_path / "invoker-home"
    (home / ".aws").mkdir(parents=True)
    creds = home / ".aws" / "credentials"
    creds.write_text(f"[default]\naws_secret_access_key = {FILE_SECRET}\n")
    monkeypatch.setenv("HOME", str(home))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"],
        env={"AWS_SECRET_ACCESS_KEY": ENV_SECRET, "PATH": os.defpath},
    )
    try:
        yield creds
    finally:
        holder.kill()
        holder.wait()


def _probe(found_in: Path, creds: Path) -> str:
    code = PROBE.format(secrets=[ENV_SECRET, FILE_SECRET])
    return f"{code}\nsnoop({str(found_in)!r}, {str(creds)!r})\n"


def _found(path: Path) -> dict[str, object]:
    found: dict[str, object] = json.loads(path.read_text())
    return found


@jailed
def test_unjailed_the_probe_finds_both_secrets(invoker: Path, tmp_path: Path) -> None:
    """The control: the same probe, run as the install steps ran before, finds both."""
    found_in = tmp_path / "found.json"
    code = _probe(found_in, invoker)
    subprocess.run([sys.executable, "-c", code], check=True, env={"PATH": os.defpath})
    leaks = _found(found_in)["leaks"]
    assert str(invoker) in leaks and any(str(p).endswith("/environ") for p in leaks), leaks


@jailed
def test_a_jailed_step_finds_nothing_and_keeps_the_network(invoker: Path, tmp_path: Path) -> None:
    """What ``go`` and ``npm`` get (run_jailed): the same probe, nothing found."""
    found_in = tmp_path / "found.json"
    done = run_jailed(
        [sys.executable, "-c", _probe(found_in, invoker)],
        env={"PATH": os.defpath},
        timeout=60,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert done.returncode == 0, done.stderr
    found = _found(found_in)
    assert found["leaks"] == [] and int(str(found["read"])) > 1, found
    # Only the PID (and mount) namespace is new: the registries stay reachable.
    assert found["net"] == str(Path("/proc/self/ns/net").readlink())
    assert found["pid"] != str(Path("/proc/self/ns/pid").readlink())


def test_a_jailed_step_reports_exit_codes_and_missing_programs(tmp_path: Path) -> None:
    env = {"PATH": os.defpath}
    done = run_jailed(["sh", "-c", "echo out; exit 3"], env=env, timeout=60, stdout=-1)
    assert (done.returncode, done.stdout) == (3, "out\n")
    with pytest.raises(FileNotFoundError):
        run_jailed([str(tmp_path / "no-such-program")], env=env, timeout=60)


def test_a_jailed_step_past_its_timeout_leaves_nothing_running(tmp_path: Path) -> None:
    marker = f"install-step-{time.monotonic_ns()}"
    code = (
        "import subprocess, sys, time\n"
        "subprocess.Popen(['setsid', sys.executable, '-c', 'import time; time.sleep(600)',\n"
        "                  sys.argv[1]], stdin=subprocess.DEVNULL)\n"
        "time.sleep(600)\n"
    )
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired) as caught:
        run_jailed([sys.executable, "-c", code, marker], env={"PATH": os.defpath}, timeout=2)
    assert caught.value.cmd[-1] == marker  # the step's argv, not the jail's
    assert time.monotonic() - started < 2 + jail.INSTALL_GRACE_MS / 1000 + 5
    assert not [p for p in Path("/proc").glob("[0-9]*/cmdline") if _holds(p, marker)]


def _holds(cmdline: Path, marker: str) -> bool:
    try:
        return marker.encode() in cmdline.read_bytes()
    except OSError:
        return False


@pytest.mark.integration
@pytest.mark.slow
@jailed
def test_pip_install_runs_a_build_backend_that_finds_nothing(
    invoker: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tool installed from PyPI runs its build backend during ``pip install`` (toolenv)."""
    found_in = tmp_path / "found.json"
    package = local_distribution(
        tmp_path / "leaky",
        "leaky",
        prelude=PROBE.format(secrets=[ENV_SECRET, FILE_SECRET]),
        on_build=f"snoop({str(found_in)!r}, {str(invoker)!r})",
    )
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # a local directory: no network
    found = pypi_venv.install(str(package), "leaky", tmp_path / "venvs")
    assert found == pypi_venv.venv_of(str(package), tmp_path / "venvs") / "bin" / "leaky"
    said = _found(found_in)
    assert said["leaks"] == [] and int(str(said["read"])) > 1, said
    assert said["pid"] != str(Path("/proc/self/ns/pid").readlink())
