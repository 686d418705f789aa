"""Median time of a full encrypted session with the fake plugin, next to the bare AWS calls in it.

Run: ``python benchmarks/session.py [ROUNDS]``. With ``SMP_COMPAT_REAL_PLUGIN`` set, a column
for the real binary is added. Numbers are printed side by side, never asserted.
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
from compat.sandbox import Sandbox, make_sandbox


def _session_seconds(fake: FakeAWS, sandbox: Sandbox) -> tuple[float, float]:
    """(whole session, the bare API calls it needs: ExecuteCommand, GenerateDataKey, Decrypt)."""
    target = fake.seed_ecs_task(kms_key=True)
    ecs, kms = fake.client("ecs", target.region), fake.client("kms", target.region)
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
    context = {"aws:ssm:SessionId": session["sessionId"], "aws:ssm:TargetId": target.ssm_target}
    began = time.perf_counter()
    ecs.execute_command(
        cluster=target.cluster_name, task=target.task_arn, command="echo bench", interactive=True
    )
    key = kms.generate_data_key(
        KeyId=target.kms_key_id, NumberOfBytes=64, EncryptionContext=context
    )
    kms.decrypt(CiphertextBlob=key["CiphertextBlob"], EncryptionContext=context)
    return whole, time.perf_counter() - began


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    real = os.environ.get("SMP_COMPAT_REAL_PLUGIN")
    plugins: dict[str, dict[str, object]] = {"fake 1.2.677.0": {"release": "1.2.677.0"}}
    if real:
        plugins["real " + Path(real).name] = {"real_plugin": Path(real)}
    root = Path(tempfile.mkdtemp(prefix="smp-bench-session-"))
    with FakeAWS() as fake:
        columns: dict[str, tuple[float, float]] = {}
        for name, kwargs in plugins.items():
            sandbox = make_sandbox(root / name.replace(" ", "-"), fake.env(), **kwargs)  # type: ignore[arg-type]
            _session_seconds(fake, sandbox)  # warm: clients, certificates, page cache
            samples = [_session_seconds(fake, sandbox) for _ in range(rounds)]
            columns[name] = (
                statistics.median(s[0] for s in samples),
                statistics.median(s[1] for s in samples),
            )
    print(f"median of {rounds} encrypted ECS Exec sessions (ExecuteCommand + plugin run)")
    print(f"{'plugin':<24} {'session ms':>11} {'bare calls ms':>14} {'ratio':>7}")
    for name, (whole, bare) in columns.items():
        print(f"{name:<24} {whole * 1000:>11.1f} {bare * 1000:>14.1f} {whole / bare:>6.1f}x")


if __name__ == "__main__":
    main()
