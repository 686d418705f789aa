"""ECS through boto3 over real HTTP: the fields moto drops, ExecuteCommand and its errors."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from compat.fakeaws import FakeAWS, moto_ext
from compat.fakeaws.errors import PatchDispatchError
from compat.fakeaws.seed import EcsTarget

pytestmark = pytest.mark.integration


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


@pytest.fixture(scope="module")
def task(fake: FakeAWS) -> EcsTarget:
    return fake.seed_ecs_task(kms_key=True, containers=("app", "sidecar"))


def test_describe_tasks_has_every_container_with_runtime_id_and_agent(
    ecs: Any, task: EcsTarget
) -> None:
    for _ in range(2):  # moto's default state transition would move the task on
        described = ecs.describe_tasks(cluster=task.cluster_name, tasks=[task.task_arn])["tasks"][0]
        assert described["lastStatus"] == "RUNNING"
    assert described["enableExecuteCommand"] is True
    assert [c["name"] for c in described["containers"]] == ["app", "sidecar"]
    for container in described["containers"]:
        assert re.fullmatch(re.escape(task.task_id) + r"-\d{10}", container["runtimeId"])
        assert container["taskArn"] == task.task_arn
        assert container["lastStatus"] == "RUNNING"
        assert container["containerArn"].startswith(
            f"arn:aws:ecs:eu-west-1:123456789012:container/{task.cluster_name}/{task.task_id}/"
        )
        assert [(a["name"], a["lastStatus"]) for a in container["managedAgents"]] == [
            ("ExecuteCommandAgent", "RUNNING")
        ]


def test_task_ids_have_the_real_32_hex_shape(task: EcsTarget) -> None:
    """Real task ids are 32 hex digits and the Fargate runtimeId starts with one: callers such
    as aws-ssm-juggle recover the task id with ``runtimeId.split("-")[0]``."""
    assert re.fullmatch(r"[0-9a-f]{32}", task.task_id)
    assert task.task_arn.endswith(f"/{task.cluster_name}/{task.task_id}")
    assert task.runtime_id.split("-")[0] == task.task_id


def test_task_without_exec_has_no_managed_agent(fake: FakeAWS, ecs: Any) -> None:
    plain = fake.seed_ecs_task(exec_enabled=False)
    described = ecs.describe_tasks(cluster=plain.cluster_name, tasks=[plain.task_arn])["tasks"][0]
    assert described["enableExecuteCommand"] is False
    assert described["containers"][0]["managedAgents"] == []


def test_services_echo_enable_execute_command(ecs: Any, task: EcsTarget) -> None:
    family = ecs.describe_tasks(cluster=task.cluster_name, tasks=[task.task_arn])["tasks"][0][
        "taskDefinitionArn"
    ]
    created = ecs.create_service(
        cluster=task.cluster_name,
        serviceName="svc",
        taskDefinition=family,
        desiredCount=0,
        enableExecuteCommand=True,
    )["service"]
    assert created["enableExecuteCommand"] is True
    updated = ecs.update_service(
        cluster=task.cluster_name, service="svc", enableExecuteCommand=False
    )["service"]
    assert updated["enableExecuteCommand"] is False
    described = ecs.describe_services(cluster=task.cluster_name, services=["svc"])["services"][0]
    assert described["enableExecuteCommand"] is False


def test_execute_command_creates_the_session_the_agent_enforces(
    fake: FakeAWS, ecs: Any, task: EcsTarget
) -> None:
    answer = ecs.execute_command(
        cluster=task.cluster_name,
        task=task.task_arn,
        container="sidecar",
        command="/bin/sh -c 'echo hi'",
        interactive=True,
    )
    session = answer["session"]
    assert re.fullmatch(r"ecs-execute-command-[0-9a-f]{17}", session["sessionId"])
    assert answer["containerName"] == "sidecar"
    assert answer["interactive"] is True
    assert answer["clusterArn"] == task.cluster_arn
    assert answer["taskArn"] == task.task_arn
    spec = fake.registry.get(session["sessionId"])
    assert session["streamUrl"] == fake.registry.stream_url(spec.session_id)
    assert session["tokenValue"] == spec.token_value
    sidecar = ecs.describe_tasks(cluster=task.cluster_name, tasks=[task.task_id])["tasks"][0][
        "containers"
    ][1]
    assert spec.target == f"ecs:{task.cluster_name}_{task.task_id}_{sidecar['runtimeId']}"
    assert spec.session_type == "InteractiveCommands"
    assert spec.kms_key_id == task.kms_key_id
    assert spec.command == "/bin/sh -c 'echo hi'"
    assert spec.kind == "ecs"
    assert spec.access_key_id == fake.credentials.access_key_id


def test_execute_command_without_cluster_key_requests_no_encryption(
    fake: FakeAWS, ecs: Any
) -> None:
    plain = fake.seed_ecs_task()
    answer = ecs.execute_command(
        cluster=plain.cluster_arn, task=plain.task_id, command="sh", interactive=True
    )
    assert fake.registry.get(answer["session"]["sessionId"]).kms_key_id is None


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        ("not-interactive", "InvalidParameterException", moto_ext.INTERACTIVE_ONLY),
        ("bad-task-id", "InvalidParameterException", moto_ext.TASK_ID_LENGTH),
        ("unknown-task", "InvalidParameterException", moto_ext.TASK_NOT_FOUND),
        ("unknown-cluster", "ClusterNotFoundException", "Cluster not found."),
        ("container-required", "InvalidParameterException", moto_ext.CONTAINER_REQUIRED),
        (
            "unknown-container",
            "InvalidParameterException",
            "The container db does not exist in the task.",
        ),
    ],
)
def test_execute_command_validation(
    ecs: Any, task: EcsTarget, case: str, code: str, message: str
) -> None:
    request = {
        "cluster": task.cluster_name,
        "task": task.task_arn,
        "container": "app",
        "command": "sh",
        "interactive": True,
    }
    if case == "not-interactive":
        request["interactive"] = False
    elif case == "bad-task-id":
        request["task"] = "abc"
    elif case == "unknown-task":
        request["task"] = "0" * 32
    elif case == "unknown-cluster":
        request["cluster"] = "no-such-cluster"
    elif case == "container-required":
        del request["container"]
    elif case == "unknown-container":
        request["container"] = "db"
    with pytest.raises(ClientError) as excinfo:
        ecs.execute_command(**request)
    assert _error(excinfo) == (code, message)


@pytest.mark.parametrize("case", ["exec-disabled", "task-stopped", "agent-stopped"])
def test_execute_command_refuses_without_a_running_agent(
    fake: FakeAWS, ecs: Any, case: str
) -> None:
    target = fake.seed_ecs_task(exec_enabled=case != "exec-disabled")
    if case == "task-stopped":
        ecs.stop_task(cluster=target.cluster_name, task=target.task_arn, reason="test")
    elif case == "agent-stopped":
        fake.set_exec_agent_status(target, "STOPPED")
    with pytest.raises(ClientError) as excinfo:
        ecs.execute_command(
            cluster=target.cluster_name, task=target.task_arn, command="sh", interactive=True
        )
    assert _error(excinfo) == ("InvalidParameterException", moto_ext.EXEC_NOT_ENABLED)


def test_discover_poll_endpoint_has_the_real_shapes(ecs: Any) -> None:
    answer = ecs.discover_poll_endpoint(cluster="default")
    assert answer["endpoint"] == "https://ecs-a-1.eu-west-1.amazonaws.com/"
    assert answer["telemetryEndpoint"] == "https://ecs-t-1.eu-west-1.amazonaws.com/"
    assert answer["serviceConnectEndpoint"] == "https://ecs-sc.eu-west-1.api.aws"


def test_unimplemented_operation_is_a_json_error_that_is_not_retried(ecs: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        ecs.list_services_by_namespace(namespace="x")
    response = excinfo.value.response
    assert response["Error"]["Code"] == "UnknownOperationException"
    assert "ecs:ListServicesByNamespace" in response["Error"]["Message"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["ResponseMetadata"].get("RetryAttempts", 0) == 0


def test_verify_dispatch_passes_on_the_pinned_moto(fake: FakeAWS) -> None:
    moto_ext.verify_dispatch()


def test_verify_dispatch_names_the_operation_that_stopped_dispatching(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.ssm.responses import SimpleSystemManagerResponse  # noqa: PLC0415

    monkeypatch.delattr(SimpleSystemManagerResponse, "resume_session")
    with pytest.raises(PatchDispatchError, match=r"ssm:ResumeSession"):
        moto_ext.verify_dispatch()
