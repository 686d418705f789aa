"""Median latency of the fake AWS calls a session makes, direct to moto and through the proxy."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from compat.fakeaws import FakeAWS

ROUNDS = 30


def _median_ms(call: Callable[[], Any]) -> float:
    call()  # warm: client, connection, TLS certificate
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    began = time.perf_counter()
    with FakeAWS() as fake:
        started = time.perf_counter() - began
        target = fake.seed_ecs_task(kms_key=True)
        ecs, kms = fake.client("ecs"), fake.client("kms")
        proxied_kms = boto3.client(
            "kms",
            region_name=fake.region,
            aws_access_key_id="AKIAFAKEBENCH0000001",
            aws_secret_access_key="s" * 40,
            verify=str(fake.ca_bundle),
            config=Config(proxies={"https": fake.proxy_url}),
        )
        context = {"aws:ssm:SessionId": "bench", "aws:ssm:TargetId": target.ssm_target}
        rows = {
            "ecs ExecuteCommand (endpoint)": lambda: ecs.execute_command(
                cluster=target.cluster_name, task=target.task_arn, command="sh", interactive=True
            ),
            "kms GenerateDataKey (endpoint)": lambda: kms.generate_data_key(
                KeyId=target.kms_key_id, NumberOfBytes=64, EncryptionContext=context
            ),
            "kms GenerateDataKey (proxy, TLS)": lambda: proxied_kms.generate_data_key(
                KeyId=target.kms_key_id, NumberOfBytes=64, EncryptionContext=context
            ),
        }
        base = None
        print(f"FakeAWS start: {started * 1000:.0f} ms (agent: {fake.agent_url is not None})")
        for name, call in rows.items():
            median = _median_ms(call)
            base = base or median
            print(f"{name:36s} {median:7.2f} ms  x{median / base:.2f}")


if __name__ == "__main__":
    main()
