"""FakeAWS lifecycle, loopback-only binding, the sandbox environment, and an AWS CLI smoke test."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from compat.fakeaws import FakeAWS, FakeAWSError

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAWS]:
    """The whole stage, agent included when installed."""
    with FakeAWS() as stage:
        yield stage


def _listening_sockets() -> set[tuple[str, int]]:
    """(address, port) of every TCP listener of this process, from /proc (Linux)."""
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table, width in (("/proc/self/net/tcp", 8), ("/proc/self/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A = LISTEN
                continue
            address, port = local.split(":")
            if width == 8:
                host = ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0))
            else:
                host = "::1" if address == "0" * 24 + "01000000" else address
            found.add((host, int(port, 16)))
    return found


def test_nothing_listens_beyond_loopback(fake: FakeAWS) -> None:
    bound = fake.bound_addresses()
    assert len(bound) == 4  # moto, moto for ECS, proxy, agent
    assert all(host == "127.0.0.1" for host, _ in bound)
    listeners = _listening_sockets()
    assert {port for _, port in bound} <= {port for _, port in listeners}
    assert all(host in ("127.0.0.1", "::1") for host, _ in listeners), listeners


def test_agent_url_is_in_the_stream_urls(fake: FakeAWS) -> None:
    assert fake.agent_url and fake.agent_url.startswith("ws://127.0.0.1:")
    assert fake.registry.stream_url("s1").startswith(f"{fake.agent_url}/v1/data-channel/s1")


def test_one_fake_aws_per_process(fake: FakeAWS) -> None:
    with pytest.raises(FakeAWSError, match="already started"):
        fake.start()
    with pytest.raises(FakeAWSError, match="another FakeAWS is running"):
        FakeAWS(proxy=False, agent=False).start()


def test_env_points_only_at_the_fake(fake: FakeAWS) -> None:
    env = fake.env(region="ap-northeast-1")
    assert env["AWS_ENDPOINT_URL"] == fake.endpoint_url
    key = env["AWS_ACCESS_KEY_ID"]
    assert env["HTTPS_PROXY"] == env["https_proxy"] == fake.proxy.url_for(key)  # its own port
    assert env["NO_PROXY"] == "127.0.0.1,localhost"
    assert Path(env["AWS_CA_BUNDLE"]).is_file()
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "ap-northeast-1"
    assert env["AWS_ACCESS_KEY_ID"].startswith("AKIA") and len(env["AWS_ACCESS_KEY_ID"]) == 20
    assert env["AWS_ACCESS_KEY_ID"] != fake.env()["AWS_ACCESS_KEY_ID"]  # one key per sandbox
    assert "SSL_CERT_FILE" not in env
    assert fake.env(ssl_cert_file=True)["SSL_CERT_FILE"] == env["AWS_CA_BUNDLE"]


@pytest.mark.slow
def test_aws_cli_execute_command_hands_the_session_to_the_plugin(
    fake: FakeAWS, tmp_path: Path
) -> None:
    """AWS CLI v1 against the fake with a recording stub plugin (docs/ecosystem.md §1.4)."""
    target = fake.seed_ecs_task(kms_key=True)
    bin_dir, record = tmp_path / "bin", tmp_path / "argv.jsonl"
    bin_dir.mkdir()
    stub = bin_dir / "session-manager-plugin"
    stub.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import json, sys
            with open({str(record)!r}, "a") as fh:
                fh.write(json.dumps(sys.argv[1:]) + "\\n")
            """
        )
    )
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(fake.env())
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", HOME=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "awscli", "ecs", "execute-command", "--cluster", target.cluster_name,
         "--task", target.task_arn, "--container", "app", "--interactive", "--command", "/bin/sh"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    install_check, call = (json.loads(line) for line in record.read_text().splitlines())
    assert install_check == []
    response = json.loads(call[0])
    assert call[1:4] == ["eu-west-1", "StartSession", ""]
    assert json.loads(call[4]) == {"Target": target.ssm_target}
    assert call[5] == fake.ecs_endpoint_url  # the ECS client's endpoint (docs/plugin.md §1.2)
    spec = fake.registry.get(response["sessionId"])
    assert response["tokenValue"] == spec.token_value
    assert spec.target == target.ssm_target
    assert spec.kms_key_id == target.kms_key_id
    assert spec.access_key_id == env["AWS_ACCESS_KEY_ID"]


def test_reset_forgets_resources_sessions_and_records(fake: FakeAWS) -> None:
    target = fake.seed_ecs_task()
    fake.client("ecs").execute_command(
        cluster=target.cluster_name, task=target.task_arn, command="sh", interactive=True
    )
    fake.reset()
    assert list(fake.registry) == []
    assert fake.proxy.records() == []
    assert fake.client("ecs").list_clusters()["clusterArns"] == []


def test_seeding_after_a_reset_uses_the_new_default_network(fake: FakeAWS) -> None:
    """The seeder looks the default subnet up once per region; a reset makes it look again."""
    fake.seed_ecs_task()
    fake.reset()
    target = fake.seed_ecs_task()
    ec2, ecs = fake.client("ec2"), fake.client("ecs")
    default = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
    subnets = {s["SubnetId"] for s in default["Subnets"]}
    task = ecs.describe_tasks(cluster=target.cluster_name, tasks=[target.task_arn])["tasks"][0]
    details = task["attachments"][0]["details"]
    used = {d["value"] for d in details if d["name"] == "subnetId"}
    assert used and used <= subnets
