"""Read-only calls callers make, tags on seeded targets, and the record of unknown operations,
against the real stage (moto over HTTP on 127.0.0.1); and docs/fake-aws.md §1 against the real
dispatch."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.core.responses import BaseResponse
from moto.core.utils import camelcase_to_underscores, method_names_from_class

from compat.fakeaws import Credentials, FakeAWS, moto_ext

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[3] / "docs" / "fake-aws.md"


def _client(fake: FakeAWS, service: str, creds: Credentials) -> Any:
    """A client signed with a cell's key, as a sandboxed tool's would be."""
    return boto3.client(
        service,
        region_name=fake.region,
        endpoint_url=fake.endpoint_url,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        config=Config(retries={"max_attempts": 1}, proxies={}),
    )


def test_a_tagged_instance_is_found_by_every_tag_lookup(fake: FakeAWS) -> None:
    group = f"web-{id(fake)}"
    target = fake.seed_ec2_instance(tags={"smp-group": group, "Name": "box"})
    other = fake.seed_ec2_instance()
    ssm, ec2 = fake.client("ssm"), fake.client("ec2")

    info = ssm.describe_instance_information(Filters=[{"Key": "tag:smp-group", "Values": [group]}])[
        "InstanceInformationList"
    ]
    assert [i["InstanceId"] for i in info] == [target.instance_id]
    (entry,) = info
    assert entry["PingStatus"] == "Online" and entry["PlatformType"] == "Linux"
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", entry["IPAddress"])
    assert entry["ResourceType"] == "EC2Instance" and entry["AgentVersion"]

    by_id = ssm.describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [other.instance_id]}]
    )["InstanceInformationList"]
    assert [i["InstanceId"] for i in by_id] == [other.instance_id]
    old_style = ssm.describe_instance_information(
        InstanceInformationFilterList=[{"key": "PingStatus", "valueSet": ["ConnectionLost"]}]
    )["InstanceInformationList"]
    assert target.instance_id not in [i["InstanceId"] for i in old_style]
    keyed = ssm.describe_instance_information(Filters=[{"Key": "tag-key", "Values": ["Name"]}])
    assert target.instance_id in [i["InstanceId"] for i in keyed["InstanceInformationList"]]
    with pytest.raises(ClientError, match="InvalidInstanceInformationFilterValue"):
        ssm.describe_instance_information(Filters=[{"Key": "Colour", "Values": ["red"]}])

    tagging = fake.client("resourcegroupstaggingapi")
    found = tagging.get_resources(
        ResourceTypeFilters=["ec2:instance"],
        TagFilters=[{"Key": "smp-group", "Values": [group]}],
    )["ResourceTagMappingList"]
    assert [r["ResourceARN"].rsplit("/", 1)[1] for r in found] == [target.instance_id]

    reservations = ec2.describe_instances(Filters=[{"Name": "tag:smp-group", "Values": [group]}])[
        "Reservations"
    ]
    assert [i["InstanceId"] for r in reservations for i in r["Instances"]] == [target.instance_id]
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [target.instance_id]}])
    assert {(t["Key"], t["Value"]) for t in tags["Tags"]} == {
        ("smp-group", group),
        ("Name", "box"),
    }


def test_a_tagged_task_shows_its_tags(fake: FakeAWS) -> None:
    target = fake.seed_ecs_task(tags={"copilot-task": "smp"})
    ecs = fake.client("ecs")
    (task,) = ecs.describe_tasks(
        cluster=target.cluster_name, tasks=[target.task_arn], include=["TAGS"]
    )["tasks"]
    assert {"key": "copilot-task", "value": "smp"} in task["tags"]
    listed = ecs.list_tags_for_resource(resourceArn=target.task_arn)["tags"]
    assert {"key": "copilot-task", "value": "smp"} in listed
    assert target.task_arn in ecs.list_tasks(cluster=target.cluster_name)["taskArns"]


def test_an_unknown_operation_is_a_clear_error_recorded_for_the_callers_key(
    fake: FakeAWS,
) -> None:
    creds, bystander = Credentials.new(), Credentials.new()
    ssm = _client(fake, "ssm", creds)
    with pytest.raises(ClientError) as caught:
        ssm.get_connection_status(Target="i-0123456789abcdef0")
    assert caught.value.response["Error"]["Code"] == "UnknownOperationException"
    assert "ssm:GetConnectionStatus" in caught.value.response["Error"]["Message"]
    ssm.describe_instance_information()  # implemented: not recorded
    assert fake.registry.unsupported(creds.access_key_id) == ["ssm:GetConnectionStatus"]
    assert fake.registry.unsupported(bystander.access_key_id) == []


def _doc_rows() -> list[tuple[str, str, str]]:
    rows = re.findall(
        r"^\| (\w+) \| (\w+) \| (smp-compat|moto) \|", DOC.read_text(encoding="utf-8"), re.M
    )
    assert len(rows) > 20, "the table's pattern changed"
    return rows


def test_the_operations_table_matches_the_dispatch() -> None:
    moto_ext.install()
    rows = _doc_rows()
    ours = {(s, o) for s, o, by in rows if by == "smp-compat"}
    patched = {(s, o) for s, ops in moto_ext.PATCHED_OPERATIONS.items() for o in ops}
    assert ours == patched
    missing = [(s, o) for s, o, by in rows if by == "moto" and not _dispatched(s, o)]
    assert not missing


def _dispatched(service: str, operation: str) -> bool:
    """Whether moto's response class for ``service`` has the action's method (how
    ``BaseResponse.call_action`` finds it)."""
    module = importlib.import_module(f"moto.{service}.responses")
    classes = [
        c
        for c in vars(module).values()
        if isinstance(c, type) and issubclass(c, BaseResponse) and c is not BaseResponse
    ]
    method = camelcase_to_underscores(operation)
    return any(method in method_names_from_class(c) for c in classes)


def test_the_dispatch_check_sees_an_operation_moto_lacks() -> None:
    assert _dispatched("ssm", "GetDocument")
    assert not _dispatched("ssm", "GetConnectionStatus")
