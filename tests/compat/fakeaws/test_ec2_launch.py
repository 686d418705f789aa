"""A task on an EC2 container instance and a customer session document (ssm-ecs, issue 11)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.ec2.models import ec2_backends

from compat.evidence.arrange import seeded
from compat.fakeaws import FakeAWS
from compat.fakeaws.moto_base import originals
from compat.fakeaws.seed import EcsTarget
from compat.plan.scenario import get

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def task(fake: FakeAWS) -> EcsTarget:
    return fake.seeder.ecs_task(region=fake.region, launch_type="EC2")


def test_the_task_leads_to_its_ec2_host_as_ssm_ecs_follows_it(ecs: Any, task: EcsTarget) -> None:
    # ssmecs/ssm_ecs.py start: DescribeTasks -> containerInstanceArn ->
    # DescribeContainerInstances -> ec2InstanceId.
    (described,) = ecs.describe_tasks(cluster=task.cluster_name, tasks=[task.task_arn])["tasks"]
    assert described["launchType"] == "EC2"
    (host,) = ecs.describe_container_instances(
        cluster=task.cluster_name, containerInstances=[described["containerInstanceArn"]]
    )["containerInstances"]
    assert host["ec2InstanceId"] == task.instance_id
    assert described["containers"][0]["runtimeId"] == task.runtime_id


def test_a_fargate_task_has_no_host(fake: FakeAWS) -> None:
    assert fake.seeder.ecs_task(region=fake.region).instance_id is None


def test_the_seeded_document_starts_a_session_with_its_kms_key(
    fake: FakeAWS, ssm: Any, task: EcsTarget
) -> None:
    key = fake.seeder.shared_key(fake.region).arn
    fake.seeder.session_document(fake.region, "RunCommand", key)
    content = json.loads(ssm.get_document(Name="RunCommand")["Content"])
    assert (content["sessionType"], content["inputs"]["kmsKeyId"]) == ("InteractiveCommands", key)
    assert task.instance_id is not None
    started = ssm.start_session(
        Target=task.instance_id, DocumentName="RunCommand", Parameters={"command": ["/bin/sh"]}
    )
    assert started["SessionId"]
    # Re-seeded without a key (another scenario of the region): a plain document again.
    fake.seeder.session_document(fake.region, "RunCommand", None)
    content = json.loads(ssm.get_document(Name="RunCommand")["Content"])
    assert content["inputs"]["kmsKeyId"] == ""
    with pytest.raises(ClientError, match="InvalidParameters"):
        ssm.start_session(
            Target=task.instance_id, DocumentName="RunCommand", Parameters={"cmd": ["ls"]}
        )


def test_a_cell_seeds_the_document_with_its_key_and_ends_with_its_host_gone(
    fake: FakeAWS,
) -> None:
    scenario = get("kms")
    ssm = fake.client("ssm", scenario.seed.region)
    with seeded(fake, scenario, "ecs-exec", launch_type="EC2", document="SmpDoc") as target:
        assert isinstance(target, EcsTarget) and target.instance_id is not None
        content = json.loads(ssm.get_document(Name="SmpDoc")["Content"])
        assert content["inputs"]["kmsKeyId"] == fake.seeder.shared_key(scenario.seed.region).arn
    ec2 = fake.client("ec2", target.region)
    (reservation,) = ec2.describe_instances(InstanceIds=[target.instance_id])["Reservations"]
    assert reservation["Instances"][0]["State"]["Name"] == "terminated"


def test_an_instance_gets_its_image_as_moto_finds_it_by_filter(fake: FakeAWS) -> None:
    """The AMI lookup RunInstances makes is a dict lookup (moto_patch), with the answer of
    moto's own filter: an exact id, an unknown one, and a wildcard that stays moto's."""
    target = fake.seed_ec2_instance()
    (instance,) = fake.client("ec2").describe_instances(InstanceIds=[target.instance_id])[
        "Reservations"
    ][0]["Instances"]
    backend = ec2_backends["123456789012"][fake.region]
    image = instance["ImageId"]
    for wanted in (image, "ami-00000000", image[:-2] + "*"):
        filters = {"image-id": wanted}
        mine = backend.describe_images(filters=filters)
        assert [i.id for i in mine] == [
            i.id for i in originals["describe_images"](backend, None, filters, None, None)
        ]
    assert [i.id for i in backend.describe_images(filters={"image-id": image})] == [image]
    assert instance["Architecture"] == backend.amis[image].architecture
