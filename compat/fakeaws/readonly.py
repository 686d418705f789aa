"""Read-only calls caller tools make to find their target that moto 5.2.5 lacks.

Today that is ``ssm:DescribeInstanceInformation``: ssm-cli lists the instances of a tag group
with it and connects only to those it reports with an IP address and ``PingStatus`` Online
(ssm_cli/instances.py ``list_instances``, https://pypi.org/project/ssm-cli/1.1.0/). Every EC2
instance of the region is a managed instance here, as if its SSM agent were registered:
running ones are Online. ``resourcegroupstaggingapi:GetResources``, ``ec2:DescribeTags`` and
tag filters on ``ec2:DescribeInstances`` are moto's own (docs/fake-aws.md lists them all).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends

__all__ = ["AGENT_VERSION", "describe_instance_information"]

#: A released SSM agent version (aws/amazon-ssm-agent tag 3.3.1957.0); callers only show it.
AGENT_VERSION = "3.3.1957.0"
#: The ``Filters`` keys the API reference lists (API_InstanceInformationStringFilter), besides
#: ``tag:<key>`` and ``tag-key``.
_FILTER_KEYS = (
    "InstanceIds",
    "AgentVersion",
    "PingStatus",
    "PlatformTypes",
    "ActivationIds",
    "IamRole",
    "ResourceType",
    "AssociationStatus",
)


class _FilterKeyError(ValueError):
    """A filter key DescribeInstanceInformation does not know (AWS answers
    ``InvalidInstanceInformationFilterValue``); raised and caught in this module only, where it
    becomes that AwsError."""


def _information(instance: Any) -> dict[str, Any]:
    """An EC2 instance as Session Manager reports a registered Amazon Linux 2 instance."""
    running = instance.state == "running"
    return {
        "InstanceId": instance.id,
        "PingStatus": "Online" if running else "ConnectionLost",
        "LastPingDateTime": datetime.now(UTC),
        "AgentVersion": AGENT_VERSION,
        "IsLatestVersion": True,
        "PlatformType": "Linux",
        "PlatformName": "Amazon Linux",
        "PlatformVersion": "2",
        "ResourceType": "EC2Instance",
        "IPAddress": instance.private_ip_address,
        "ComputerName": instance.private_dns_name,
        "AssociationStatus": "Success",
        "SourceId": instance.id,
        "SourceType": "AWS::EC2::Instance",
    }


def _tags(instance: Any) -> dict[str, str]:
    return {t["key"]: t["value"] for t in instance.get_tags()}


def _matches(info: dict[str, Any], tags: dict[str, str], key: str, values: list[str]) -> bool:
    if key.startswith("tag:"):
        return tags.get(key[4:]) in values
    if key == "tag-key":
        return any(value in tags for value in values)
    field = {
        "InstanceIds": "InstanceId",
        "PlatformTypes": "PlatformType",
    }.get(key, key)
    if field in info:
        return str(info[field]) in values
    return False  # ActivationIds, IamRole: no EC2 instance of the fake has them


def _filters(self: Any) -> list[tuple[str, list[str]]]:
    """Both filter lists (``Filters`` with ``Key``/``Values``, the older
    ``InstanceInformationFilterList`` with ``key``/``valueSet``), validated."""
    found: list[tuple[str, list[str]]] = []
    for item in self._get_param("Filters") or []:
        found.append((str(item.get("Key")), [str(v) for v in item.get("Values") or []]))
    for item in self._get_param("InstanceInformationFilterList") or []:
        found.append((str(item.get("key")), [str(v) for v in item.get("valueSet") or []]))
    for key, _ in found:
        if key not in _FILTER_KEYS and not key.startswith("tag:") and key != "tag-key":
            raise _FilterKeyError(key)
    return found


def describe_instance_information(self: Any) -> Any:
    """``ssm:DescribeInstanceInformation`` over the region's EC2 instances (not terminated)."""
    from compat.fakeaws.moto_base import AwsError  # noqa: PLC0415 - one error class

    try:
        filters = _filters(self)
    except _FilterKeyError as exc:
        raise AwsError(
            "InvalidInstanceInformationFilterValue", f"The filter key {exc} is not valid."
        ) from None
    backend = ec2_backends[self.current_account][self.region]
    listed = []
    for instance in backend.all_instances():
        if instance.state == "terminated":
            continue
        info = _information(instance)
        tags = _tags(instance)
        if all(_matches(info, tags, key, values) for key, values in filters):
            listed.append(info)
    listed.sort(key=lambda i: str(i["InstanceId"]))
    return ActionResult({"InstanceInformationList": listed})
