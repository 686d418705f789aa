"""Seed the fake AWS for a scenario: KMS keys, ECS clusters and tasks, EC2 instances."""

# Seeding goes through boto3 over real HTTP to the moto server, like any caller, so what a
# scenario seeds is exactly what DescribeTasks/DescribeClusters will show a tool.

from __future__ import annotations

import contextlib
import itertools
import json
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from compat.fakeaws import documents

_counter = itertools.count(1)
_counter_lock = threading.Lock()
#: A public image name; the fake never pulls it.
_IMAGE = "public.ecr.aws/docker/library/busybox:latest"
#: Amazon Linux 2 images: a handful among moto's public images (see Seeder._image).
_IMAGE_FILTER = [{"Name": "name", "Values": ["amzn2-ami-hvm-*"]}]


def unique_name(prefix: str) -> str:
    """``<prefix>-<n>-<6 hex>``: unique per call and per process, readable in reports."""
    with _counter_lock:
        n = next(_counter)
    return f"{prefix}-{n}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class KmsKey:
    key_id: str
    arn: str
    alias: str


@dataclass(frozen=True)
class EcsTarget:
    """A running ECS task container a tool can exec into."""

    cluster_name: str
    cluster_arn: str
    task_arn: str
    task_id: str
    container_name: str
    runtime_id: str
    #: ``ecs:<cluster>_<taskId>_<runtimeId>``: the target the agent expects (docs/plugin.md §2.3).
    ssm_target: str
    region: str
    #: What ``executeCommandConfiguration.kmsKeyId`` holds, or ``None``.
    kms_key_id: str | None
    exec_enabled: bool
    containers: tuple[str, ...]
    #: The task definition's family (a service is created from it; saves a DescribeTasks).
    task_family: str = ""
    #: The EC2 host of a task on a container instance (launch type EC2), else ``None``.
    instance_id: str | None = None


@dataclass(frozen=True)
class Ec2Target:
    """A running EC2 instance a tool can start an SSM session on."""

    instance_id: str
    region: str
    #: The region's Session Manager preferences key after seeding, or ``None``.
    kms_key_id: str | None

    @property
    def ssm_target(self) -> str:
        return self.instance_id


class Seeder:
    """Creates scenario resources through boto3 against the fake AWS endpoint."""

    def __init__(self, endpoint_url: str, access_key_id: str, secret_access_key: str) -> None:
        self._endpoint_url = endpoint_url
        self._credentials = (access_key_id, secret_access_key)
        self._images: dict[str, str] = {}
        self._networks: dict[str, tuple[str, str]] = {}
        self._shared_keys: dict[str, KmsKey] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._clients_lock = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        """A boto3 client for the fake AWS (no proxy, no retries: failures show at once).

        Cached per service and region: building a client costs ~100 ms (model loading).
        """
        import boto3  # noqa: PLC0415 - boto3 loads only when a stage seeds
        from botocore.config import Config  # noqa: PLC0415

        with self._clients_lock:
            cached = self._clients.get((service, region))
        if cached is not None:
            return cached
        client = boto3.client(
            service,
            region_name=region,
            endpoint_url=self._endpoint_url,
            aws_access_key_id=self._credentials[0],
            aws_secret_access_key=self._credentials[1],
            config=Config(retries={"max_attempts": 1}, proxies={}),
        )
        with self._clients_lock:
            return self._clients.setdefault((service, region), client)

    def kms_key(self, region: str, name: str | None = None) -> KmsKey:
        """A symmetric KMS key with ``alias/<name>``."""
        kms = self.client("kms", region)
        alias = f"alias/{name or unique_name('smp-key')}"
        meta = kms.create_key(Description=f"smp-compat {alias}")["KeyMetadata"]
        kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
        return KmsKey(key_id=meta["KeyId"], arn=meta["Arn"], alias=alias)

    def shared_key(self, region: str) -> KmsKey:
        """One KMS key per region for every session that only needs *a* key (created once).

        A session's KMS evidence stays its own: the agent and the verdict attribute KMS calls
        and transcripts by session id and access key, never by key id.
        """
        with self._clients_lock:
            cached = self._shared_keys.get(region)
        if cached is not None:
            return cached
        key = self.kms_key(region)
        with self._clients_lock:
            return self._shared_keys.setdefault(region, key)

    def ecs_task(
        self,
        *,
        region: str,
        cluster: str | None = None,
        kms_key: bool | str = False,
        exec_enabled: bool = True,
        containers: Sequence[str] = ("app",),
        tags: Mapping[str, str] | None = None,
        launch_type: str = "FARGATE",
    ) -> EcsTarget:
        """A cluster (with ``executeCommandConfiguration.kmsKeyId`` when ``kms_key``) and one
        running task whose containers are ``containers``, tagged with ``tags``.

        ``kms_key=True`` creates a key and uses its ARN; a string is used as the key id as is.
        ``launch_type="EC2"`` runs the task on a container instance registered from a new EC2
        instance (its ``containerInstanceArn`` leads to ``ec2InstanceId``), else on Fargate.
        """
        if not containers:
            raise ValueError("containers must name at least one container")
        ecs, ec2 = self.client("ecs", region), self.client("ec2", region)
        cluster_name = cluster or unique_name("smp-cluster")
        key_id = self.kms_key(region).arn if kms_key is True else (kms_key or None)
        create: dict[str, Any] = {"clusterName": cluster_name}
        if key_id:
            create["configuration"] = {
                "executeCommandConfiguration": {"kmsKeyId": key_id, "logging": "DEFAULT"}
            }
        cluster_arn = ecs.create_cluster(**create)["cluster"]["clusterArn"]
        family = unique_name("smp-task")
        on_ec2 = launch_type == "EC2"
        ecs.register_task_definition(
            family=family,
            requiresCompatibilities=[launch_type],
            networkMode="bridge" if on_ec2 else "awsvpc",
            cpu="256",
            memory="512",
            containerDefinitions=[
                {"name": name, "image": _IMAGE, "essential": True, "memory": 128}
                for name in containers
            ],
        )
        run: dict[str, Any] = {
            "cluster": cluster_name,
            "taskDefinition": family,
            "launchType": launch_type,
            "enableExecuteCommand": exec_enabled,
            "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
        }
        host = None
        if on_ec2:
            host = self._container_instance(ecs, ec2, region, cluster_name)
        else:
            subnet, group = self._network(ec2, region)
            run["networkConfiguration"] = {
                "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}
            }
        task = ecs.run_task(**run)["tasks"][0]
        first = task["containers"][0]
        task_id = task["taskArn"].rsplit("/", 1)[-1]
        return EcsTarget(
            cluster_name=cluster_name,
            cluster_arn=cluster_arn,
            task_arn=task["taskArn"],
            task_id=task_id,
            container_name=first["name"],
            runtime_id=first["runtimeId"],
            ssm_target=f"ecs:{cluster_name}_{task_id}_{first['runtimeId']}",
            region=region,
            kms_key_id=key_id,
            exec_enabled=exec_enabled,
            containers=tuple(c["name"] for c in task["containers"]),
            task_family=family,
            instance_id=host,
        )

    def _container_instance(self, ecs: Any, ec2: Any, region: str, cluster: str) -> str:
        """Register a new running EC2 instance as a container instance of ``cluster``; its id."""
        instance_id = str(
            ec2.run_instances(
                ImageId=self._image(ec2, region), MinCount=1, MaxCount=1, InstanceType="t3.large"
            )["Instances"][0]["InstanceId"]
        )
        # The ECS agent registers with the instance identity document (AWS API reference,
        # RegisterContainerInstance); moto reads instanceId from it.
        identity = {"instanceId": instance_id, "region": region, "instanceType": "t3.large"}
        ecs.register_container_instance(
            cluster=cluster, instanceIdentityDocument=json.dumps(identity)
        )
        return instance_id

    def session_document(self, region: str, name: str, kms_key: str | None) -> None:
        """(Re)create a customer ``Session`` document ``name`` that runs its ``command``
        parameter (``InteractiveCommands``), encrypted with ``kms_key`` when given.

        Such a document is the user's own (ssm-ecs's README asks for one named ``RunCommand``);
        like the preferences, it is regional, shared by every cell of the region.
        """
        content = {
            "schemaVersion": "1.0",
            "description": "Run a command in an interactive session",
            "sessionType": "InteractiveCommands",
            "parameters": {"command": {"type": "String", "description": "The command to run"}},
            "inputs": {"kmsKeyId": kms_key or ""},
            "properties": {"linux": {"commands": "{{ command }}", "runAsElevated": False}},
        }
        ssm = self.client("ssm", region)
        with contextlib.suppress(ssm.exceptions.InvalidDocument):
            ssm.delete_document(Name=name)
        ssm.create_document(
            Name=name, Content=json.dumps(content), DocumentType="Session", DocumentFormat="JSON"
        )

    def ec2_instance(
        self,
        *,
        region: str,
        kms_key: bool | str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Ec2Target:
        """A running instance tagged with ``tags``. ``kms_key`` sets the region's Session
        Manager preferences.

        Preferences are regional, as on AWS: ``True`` (new key) or a key id turns encryption
        on for every shell session in ``region``, ``False`` turns it off, ``None`` leaves the
        preferences as they are. Cells that need different preferences need different regions.
        """
        ec2 = self.client("ec2", region)
        image = self._image(ec2, region)
        extra: dict[str, Any] = {}
        if tags:
            tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
            extra["TagSpecifications"] = [{"ResourceType": "instance", "Tags": tag_list}]
        instance = ec2.run_instances(
            ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", **extra
        )["Instances"][0]
        key_id = (
            self.preferences(region, kms_key)
            if kms_key is not None
            else self.preferences_key(region)
        )
        return Ec2Target(instance_id=instance["InstanceId"], region=region, kms_key_id=key_id)

    def preferences(self, region: str, kms_key: bool | str) -> str | None:
        """Write ``SSM-SessionManagerRunShell`` with ``inputs.kmsKeyId`` (``""`` when off)."""
        key_id = self.kms_key(region).arn if kms_key is True else (kms_key or "")
        content = {
            "schemaVersion": "1.0",
            "description": "Document to hold regional settings for Session Manager",
            "sessionType": "Standard_Stream",
            "inputs": {
                "s3BucketName": "",
                "s3KeyPrefix": "",
                "s3EncryptionEnabled": True,
                "cloudWatchLogGroupName": "",
                "cloudWatchEncryptionEnabled": True,
                "cloudWatchStreamingEnabled": False,
                "kmsKeyId": key_id,
                "runAsEnabled": False,
                "runAsDefaultUser": "",
                "idleSessionTimeout": "20",
                "shellProfile": {"windows": "", "linux": ""},
            },
        }
        ssm = self.client("ssm", region)
        with contextlib.suppress(ssm.exceptions.InvalidDocument):
            ssm.delete_document(Name=documents.PREFERENCES_DOCUMENT)
        ssm.create_document(
            Name=documents.PREFERENCES_DOCUMENT,
            Content=json.dumps(content),
            DocumentType="Session",
            DocumentFormat="JSON",
        )
        return key_id or None

    def preferences_key(self, region: str) -> str | None:
        ssm = self.client("ssm", region)
        try:
            content = ssm.get_document(Name=documents.PREFERENCES_DOCUMENT)["Content"]
        except ssm.exceptions.InvalidDocument:
            return None
        key = json.loads(content).get("inputs", {}).get("kmsKeyId")
        return str(key) if key else None

    def forget_resources(self) -> None:
        """Drop what was looked up about resources (after moto's backends were reset)."""
        with self._clients_lock:
            self._networks.clear()
            self._shared_keys.clear()

    def _network(self, ec2: Any, region: str) -> tuple[str, str]:
        """The region's default subnet and security group (looked up once: they never change)."""
        with self._clients_lock:
            cached = self._networks.get(region)
        if cached is not None:
            return cached
        subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])[
            "Subnets"
        ][0]["SubnetId"]
        group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
        with self._clients_lock:
            return self._networks.setdefault(region, (subnet, group))

    def _image(self, ec2: Any, region: str) -> str:
        """An Amazon image of the region. Filtered by name: moto answers an unfiltered
        ``DescribeImages`` with its ~1,300 images, a minute of XML parsing on a loaded machine."""
        if region not in self._images:
            images = ec2.describe_images(Owners=["amazon"], Filters=_IMAGE_FILTER)["Images"]
            if not images:
                images = ec2.describe_images(Owners=["amazon"])["Images"]
            self._images[region] = images[0]["ImageId"]
        return self._images[region]
