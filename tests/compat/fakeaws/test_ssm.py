"""SSM sessions through boto3 over real HTTP: targets, documents, KMS preferences, lifecycle."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from compat.fakeaws import FakeAWS
from compat.fakeaws.seed import Ec2Target, EcsTarget

pytestmark = pytest.mark.integration

#: Session Manager preferences are regional: one region with a key, one without.
KMS_REGION = "us-west-2"


@pytest.fixture(scope="module")
def instance(fake: FakeAWS) -> Ec2Target:
    return fake.seed_ec2_instance(kms_key=False)


@pytest.fixture(scope="module")
def kms_instance(fake: FakeAWS) -> Ec2Target:
    return fake.seed_ec2_instance(region=KMS_REGION, kms_key=True)


@pytest.fixture(scope="module")
def task(fake: FakeAWS) -> EcsTarget:
    return fake.seed_ecs_task()


def _code(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def test_default_shell_session(fake: FakeAWS, ssm: Any, instance: Ec2Target) -> None:
    answer = ssm.start_session(Target=instance.instance_id, Reason="debug")
    assert re.fullmatch(r"moto-[0-9a-f]{17}", answer["SessionId"])
    spec = fake.registry.get(answer["SessionId"])
    assert answer["StreamUrl"] == fake.registry.stream_url(spec.session_id)
    assert answer["TokenValue"] == spec.token_value
    assert (spec.kind, spec.target, spec.session_type) == (
        "ssm",
        instance.instance_id,
        "Standard_Stream",
    )
    assert spec.kms_key_id is None
    assert spec.reason == "debug"
    assert spec.access_key_id == fake.credentials.access_key_id


def test_shell_session_takes_the_key_from_session_manager_preferences(
    fake: FakeAWS, kms_instance: Ec2Target
) -> None:
    answer = fake.client("ssm", KMS_REGION).start_session(Target=kms_instance.instance_id)
    spec = fake.registry.get(answer["SessionId"])
    assert kms_instance.kms_key_id
    assert spec.kms_key_id == kms_instance.kms_key_id
    assert spec.region == KMS_REGION


def test_port_session_never_demands_kms(fake: FakeAWS, kms_instance: Ec2Target) -> None:
    answer = fake.client("ssm", KMS_REGION).start_session(
        Target=kms_instance.instance_id,
        DocumentName="AWS-StartPortForwardingSession",
        Parameters={"portNumber": ["8080"], "localPortNumber": ["9090"]},
    )
    spec = fake.registry.get(answer["SessionId"])
    assert spec.session_type == "Port"
    assert spec.kms_key_id is None
    assert spec.properties == {
        "portNumber": "8080",
        "type": "LocalPortForwarding",
        "localPortNumber": "9090",
    }


@pytest.mark.parametrize(
    ("document", "parameters", "session_type", "properties", "command"),
    [
        ("AWS-StartInteractiveCommand", {"command": ["top"]}, "InteractiveCommands", None, "top"),
        (
            "AWS-StartNonInteractiveCommand",
            {"command": ["ls"]},
            "NonInteractiveCommands",
            None,
            "ls",
        ),
        ("AWS-StartSSHSession", {}, "Port", {"portNumber": "22"}, None),
        (
            "AWS-StartPortForwardingSessionToRemoteHost",
            {"host": ["db.internal"], "portNumber": ["5432"]},
            "Port",
            {
                "host": "db.internal",
                "portNumber": "5432",
                "type": "LocalPortForwarding",
                "localPortNumber": "0",
            },
            None,
        ),
    ],
)
def test_documents(
    fake: FakeAWS,
    ssm: Any,
    instance: Ec2Target,
    document: str,
    parameters: dict[str, list[str]],
    session_type: str,
    properties: dict[str, str] | None,
    command: str | None,
) -> None:
    answer = ssm.start_session(
        Target=instance.instance_id, DocumentName=document, Parameters=parameters
    )
    spec = fake.registry.get(answer["SessionId"])
    assert (spec.document_name, spec.session_type, spec.properties, spec.command) == (
        document,
        session_type,
        properties,
        command,
    )


@pytest.mark.parametrize(
    ("document", "parameters", "code", "message"),
    [
        ("AWS-NoSuchDocument", {}, "InvalidDocument", "The specified document does not exist."),
        (
            "AWS-StartPortForwardingSessionToRemoteHost",
            {},
            "InvalidParameters",
            'Parameter "host" is required by document '
            '"AWS-StartPortForwardingSessionToRemoteHost".',
        ),
        (
            "AWS-StartPortForwardingSession",
            {"portNumber": ["99999"]},
            "InvalidParameters",
            'Parameter "portNumber" has value "99999" not matching',
        ),
        (
            "AWS-StartSSHSession",
            {"bogus": ["1"]},
            "InvalidParameters",
            'Parameter "bogus" is not defined in document "AWS-StartSSHSession".',
        ),
    ],
)
def test_document_errors(
    ssm: Any, instance: Ec2Target, document: str, parameters: Any, code: str, message: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        ssm.start_session(Target=instance.instance_id, DocumentName=document, Parameters=parameters)
    got_code, got_message = _code(excinfo)
    assert got_code == code
    assert got_message.startswith(message)


def test_custom_session_document_is_honoured(fake: FakeAWS, ssm: Any, instance: Ec2Target) -> None:
    ssm.create_document(
        Name="Team-Shell",
        DocumentType="Session",
        Content=(
            '{"schemaVersion":"1.0","sessionType":"Standard_Stream",'
            '"inputs":{"kmsKeyId":"alias/team"}}'
        ),
    )
    answer = ssm.start_session(Target=instance.instance_id, DocumentName="Team-Shell")
    spec = fake.registry.get(answer["SessionId"])
    assert (spec.session_type, spec.kms_key_id) == ("Standard_Stream", "alias/team")


def test_ecs_target_session(fake: FakeAWS, ssm: Any, task: EcsTarget) -> None:
    answer = ssm.start_session(Target=task.ssm_target)
    assert fake.registry.get(answer["SessionId"]).target == task.ssm_target


@pytest.mark.parametrize(
    "case", ["unknown-instance", "stopped-instance", "wrong-runtime-id", "bad-ecs"]
)
def test_target_not_connected(fake: FakeAWS, ssm: Any, task: EcsTarget, case: str) -> None:
    if case == "unknown-instance":
        target = "i-0123456789abcdef0"
    elif case == "stopped-instance":
        target = fake.seed_ec2_instance().instance_id
        fake.client("ec2").stop_instances(InstanceIds=[target])
    elif case == "wrong-runtime-id":
        target = f"ecs:{task.cluster_name}_{task.task_id}_{task.task_id}-0000000000"
    else:
        target = "ecs:nonsense"
    with pytest.raises(ClientError) as excinfo:
        ssm.start_session(Target=target)
    assert _code(excinfo) == ("TargetNotConnected", f"{target} is not connected.")


def test_resume_terminate_describe(fake: FakeAWS, ssm: Any, instance: Ec2Target) -> None:
    sid = ssm.start_session(Target=instance.instance_id)["SessionId"]
    first = fake.registry.get(sid).token_value
    resumed = ssm.resume_session(SessionId=sid)
    assert resumed["TokenValue"] != first
    assert resumed["TokenValue"] == fake.registry.get(sid).token_value
    assert resumed["StreamUrl"] == fake.registry.stream_url(sid)

    active = ssm.describe_sessions(State="Active", Filters=[{"key": "SessionId", "value": sid}])
    assert [(s["SessionId"], s["Status"], s["Target"]) for s in active["Sessions"]] == [
        (sid, "Connected", instance.instance_id)
    ]
    assert ssm.terminate_session(SessionId=sid)["SessionId"] == sid
    assert ssm.terminate_session(SessionId=sid)["SessionId"] == sid  # idempotent
    history = ssm.describe_sessions(State="History", Filters=[{"key": "SessionId", "value": sid}])
    (ended,) = history["Sessions"]
    assert ended["Status"] == "Terminated"
    assert ended["EndDate"] >= ended["StartDate"]
    assert not ssm.describe_sessions(State="Active", Filters=[{"key": "SessionId", "value": sid}])[
        "Sessions"
    ]
    after = ssm.resume_session(SessionId=sid)
    assert "TokenValue" not in after  # the plugin prints "Session: <sid> timed out."


def _ssm_at(fake: FakeAWS, endpoint_url: str) -> Any:
    import boto3  # noqa: PLC0415

    creds = fake.credentials
    return boto3.session.Session().client(
        "ssm",
        region_name=fake.region,
        endpoint_url=endpoint_url,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
    )


def test_resume_is_answered_at_the_ssm_endpoint_only(
    fake: FakeAWS, ssm: Any, instance: Ec2Target
) -> None:
    """What a plugin given ECS's endpoint as argv[6] meets: ECS does not serve SSM's API."""
    sid = ssm.start_session(Target=instance.instance_id)["SessionId"]
    first = fake.registry.get(sid).token_value
    with pytest.raises(ClientError) as excinfo:
        _ssm_at(fake, fake.ecs_endpoint_url).resume_session(SessionId=sid)
    assert _code(excinfo) == (
        "InvalidSignatureException",
        "Credential should be scoped to correct service: 'ecs'. ",
    )
    assert fake.registry.get(sid).token_value == first
    answered = _ssm_at(fake, fake.endpoint_url).resume_session(SessionId=sid)
    assert answered["TokenValue"] != first
    refused, resumed = fake.registry.get(sid).resumes
    ecs_port = fake.ecs_endpoint_url.rsplit(":", 1)[1]
    ssm_port = fake.endpoint_url.rsplit(":", 1)[1]
    assert (refused.endpoint.rsplit(":", 1)[1], refused.token_value) == (ecs_port, None)
    assert refused.error is not None and refused.error.startswith("InvalidSignatureException")
    assert (resumed.endpoint.rsplit(":", 1)[1], resumed.token_value, resumed.error) == (
        ssm_port,
        answered["TokenValue"],
        None,
    )


def test_resume_unknown_session(ssm: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        ssm.resume_session(SessionId="nobody-0123456789abcdef0")
    assert _code(excinfo)[0] == "DoesNotExistException"


def test_describe_sessions_rejects_an_unknown_filter_key(ssm: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_sessions(State="Active", Filters=[{"key": "Colour", "value": "x"}])
    assert _code(excinfo)[0] in ("InvalidFilterKey", "ValidationException")
