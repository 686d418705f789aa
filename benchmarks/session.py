"""An encrypted ECS Exec session: the fake plugin (shim, native launcher) beside the real one.

Run: ``python benchmarks/session.py [ROUNDS]``. Each round makes one session per plugin, in
turn (side by side, so the machine's load hits every column alike): ``ExecuteCommand`` plus
the plugin run through KMS to the shell's end. Columns: the fake through the Python shim, the
fake through the native launcher and its warm server (compat/launcher), and with
``SMP_COMPAT_REAL_PLUGIN`` set, AWS's binary; beside them the bare AWS calls a session needs
(ExecuteCommand, GenerateDataKey, Decrypt). Prints medians and ratios, never asserts: the
aim (issue 12) is the native fake at most 1.5x the real plugin.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from compat.fakeaws import FakeAWS
from compat.launcher import PluginServer, build_launcher
from compat.runner.sandbox import Sandbox, make_sandbox
from fake_plugin.versions import DEFAULT_RELEASE

RELEASE = DEFAULT_RELEASE


def _session_seconds(fake: FakeAWS, sandbox: Sandbox) -> float:
    """ExecuteCommand, then the plugin's whole encrypted session (it types ``exit``)."""
    target = fake.seed_ecs_task(kms_key=True)
    ecs = fake.client("ecs", target.region)
    began = time.perf_counter()
    session = ecs.execute_command(
        cluster=target.cluster_name, task=target.task_arn, command="echo bench",
        interactive=True,
    )["session"]  # fmt: skip
    argv = [
        "session-manager-plugin", json.dumps(session), target.region, "StartSession", "",
        json.dumps({"Target": target.ssm_target}), fake.endpoint_url,
    ]  # fmt: skip
    done = subprocess.run(
        argv, env=sandbox.env, capture_output=True, text=True, timeout=60, check=False
    )
    whole = time.perf_counter() - began
    if "This session is encrypted using AWS KMS." not in done.stdout:
        raise SystemExit(f"session did not complete encrypted: {done.stdout!r} {done.stderr!r}")
    return whole


def _bare_calls_seconds(fake: FakeAWS) -> float:
    """The AWS calls of one encrypted session, made directly with boto3."""
    target = fake.seed_ecs_task(kms_key=True)
    ecs, kms = fake.client("ecs", target.region), fake.client("kms", target.region)
    began = time.perf_counter()
    session = ecs.execute_command(
        cluster=target.cluster_name, task=target.task_arn, command="echo bench", interactive=True
    )["session"]
    context = {"aws:ssm:SessionId": session["sessionId"], "aws:ssm:TargetId": target.ssm_target}
    key = kms.generate_data_key(
        KeyId=target.kms_key_id, NumberOfBytes=64, EncryptionContext=context
    )
    kms.decrypt(CiphertextBlob=key["CiphertextBlob"], EncryptionContext=context)
    return time.perf_counter() - began


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    real = os.environ.get("SMP_COMPAT_REAL_PLUGIN")
    root = Path(tempfile.mkdtemp(prefix="smp-bench-session-"))
    load = os.getloadavg()
    with FakeAWS() as fake, PluginServer(build_launcher()) as server:
        sandboxes = {
            f"fake {RELEASE} shim": make_sandbox(root / "shim", fake.env(), release=RELEASE),
            f"fake {RELEASE} native": make_sandbox(
                root / "native", fake.env(), release=RELEASE, launcher=server.launcher
            ),
        }
        if real:
            sandboxes["real " + Path(real).name] = make_sandbox(
                root / "real", fake.env(), real_plugin=Path(real)
            )
        samples: dict[str, list[float]] = {name: [] for name in [*sandboxes, "bare AWS calls"]}
        for round_ in range(rounds + 1):  # round 0 warms clients, certificates, page cache
            for name, sandbox in sandboxes.items():
                seconds = _session_seconds(fake, sandbox)
                if round_:
                    samples[name].append(seconds)
            seconds = _bare_calls_seconds(fake)
            if round_:
                samples["bare AWS calls"].append(seconds)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    real_name = next((n for n in medians if n.startswith("real ")), None)
    bare = medians["bare AWS calls"]
    print(
        f"median of {rounds} encrypted ECS Exec sessions (ExecuteCommand + plugin run), "
        f"load average {load[0]:.1f} {load[1]:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'':<28} {'ms':>8} {'x bare calls':>13} {'x real':>8}")
    for name, seconds in medians.items():
        vs_real = f"{seconds / medians[real_name]:>7.2f}x" if real_name else f"{'-':>8}"
        print(f"{name:<28} {seconds * 1000:>8.1f} {seconds / bare:>12.2f}x {vs_real}")
    if real_name is None:
        print("(set SMP_COMPAT_REAL_PLUGIN=/path/to/session-manager-plugin for the real column)")


if __name__ == "__main__":
    main()
