"""Real parts for the fake agent's tests: moto's KMS on 127.0.0.1 and a scripted codec client."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from websockets.sync.client import ClientConnection, connect

from compat.agent.server import FakeAgent
from compat.agent.sessions import SessionRegistry, SessionSpec
from fake_plugin import wire
from fake_plugin.crypto import SessionCipher
from fake_plugin.wire import ClientMessage, MessageType, PayloadType

REGION = "us-east-1"
TARGET = "ecs:demo_0123456789abcdef0123456789abcdef_0123456789abcdef-1111111111"
KEY_ALIAS = "alias/smp-compat-agent-test"


@pytest.fixture(scope="session")
def _moto_kms_server() -> Iterator[dict[str, Any]]:
    """A real moto server on 127.0.0.1 (session-wide: a start costs ~0.7 s)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    kms = boto3.client(
        "kms",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="AKIAFAKECLIENT000000",
        aws_secret_access_key="fake",
    )
    yield {"url": url, "client": kms}
    server.stop()


@pytest.fixture
def moto_kms(_moto_kms_server: dict[str, Any]) -> dict[str, Any]:
    """The moto server with one KMS key under :data:`KEY_ALIAS`, made again when another test
    reset moto's process-wide state (``FakeAWS.reset``, ``mock_aws``) since it was made."""
    kms = _moto_kms_server["client"]
    try:
        key_id = kms.describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["KeyId"]
    except kms.exceptions.NotFoundException:
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=KEY_ALIAS, TargetKeyId=key_id)
    return {**_moto_kms_server, "key_id": key_id}


@pytest.fixture
def registry() -> SessionRegistry:
    return SessionRegistry()


@pytest.fixture
def make_agent(
    registry: SessionRegistry, moto_kms: dict[str, Any], tmp_path: Path
) -> Iterator[Callable[..., FakeAgent]]:
    agents: list[FakeAgent] = []

    def make(**kwargs: Any) -> FakeAgent:
        agent = FakeAgent(
            registry,
            kms_endpoint_url=moto_kms["url"],
            transcript_dir=tmp_path / "transcripts",
            **kwargs,
        )
        agent.start()
        registry.agent_url = agent.url
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.stop()
        agent.check_errors()


def add_session(registry: SessionRegistry, **changes: Any) -> SessionSpec:
    fields: dict[str, Any] = {
        "session_id": f"ecs-execute-command-{uuid.uuid4().hex[:17]}",
        "token_value": "TOKEN-" + uuid.uuid4().hex,
        "kind": "ecs",
        "target": TARGET,
        "region": REGION,
        "account_id": "123456789012",
        "session_type": "InteractiveCommands",
    }
    fields.update(changes)
    spec = SessionSpec(**fields)
    registry.add(spec)
    return spec


#: The plugin's first retransmission timeout and resend tick (SMP config.go:22-26).
RESEND_AFTER_S = 0.2
RESEND_TICK_S = 0.1


class Client:
    """A tiny scripted data-channel client built on the codec, acking what it receives and,
    like the plugin's ResendStreamDataMessageScheduler, resending its oldest unacked message."""

    def __init__(self, url: str) -> None:
        self._stack = contextlib.ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            connect(url, compression=None, open_timeout=5)
        )
        self.seq = 0
        self.received: list[ClientMessage] = []
        self.acks: list[wire.Ack] = []
        self.cipher: SessionCipher | None = None
        self.auto_ack = True
        self.auto_resend = True
        #: Unacked frames by sequence number, with their first send time.
        self.unacked: dict[int, tuple[bytes, float]] = {}
        self.resent: list[int] = []

    def open(self, token: str, client_version: str | None = "1.2.677.0") -> None:
        text = wire.open_data_channel(token, str(uuid.uuid4()), str(uuid.uuid4()), client_version)
        self.ws.send(text)

    def send(self, payload_type: int, payload: bytes, seq: int | None = None) -> ClientMessage:
        if self.cipher is not None and payload_type == PayloadType.OUTPUT:
            payload = self.cipher.encrypt(payload)
        number = self.seq if seq is None else seq
        if seq is None:
            self.seq += 1
        message = ClientMessage(MessageType.INPUT, number, payload_type, payload)
        frame = wire.encode(message)
        self.ws.send(frame)
        self.unacked.setdefault(number, (frame, time.monotonic()))
        return message

    def _resend_oldest(self) -> None:
        if not (self.auto_resend and self.unacked):
            return
        seq = min(self.unacked)
        frame, first_sent = self.unacked[seq]
        if time.monotonic() - first_sent > RESEND_AFTER_S:
            self.resent.append(seq)
            self.ws.send(frame)

    def next(self, timeout: float = 5.0) -> ClientMessage:
        """The next non-ack frame (acks are collected in ``self.acks``)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no frame within {timeout} s")
            try:
                frame = self.ws.recv(timeout=min(RESEND_TICK_S, left))
            except TimeoutError:
                self._resend_oldest()
                continue
            assert isinstance(frame, bytes), frame
            message = wire.decode(frame)
            if message.message_type == MessageType.ACK:
                ack = wire.parse_ack(message)
                self.acks.append(ack)
                self.unacked.pop(ack.sequence_number, None)
                continue
            self.received.append(message)
            if self.auto_ack and message.message_type == MessageType.OUTPUT:
                self.ws.send(wire.encode(wire.ack_for(message)))
            return message

    def expect(self, payload_type: int, timeout: float = 5.0) -> ClientMessage:
        message = self.next(timeout)
        assert message.message_type == MessageType.OUTPUT, message
        assert message.payload_type == payload_type, message
        return message

    def output(self, timeout: float = 5.0) -> bytes:
        message = self.expect(PayloadType.OUTPUT, timeout)
        if self.cipher is not None:
            return self.cipher.decrypt(message.payload)
        return message.payload

    def read_until(self, suffix: bytes, timeout: float = 5.0) -> bytes:
        data = b""
        while not data.endswith(suffix):
            data += self.output(timeout)
        return data

    def closing_output(self, timeout: float = 5.0) -> str:
        """Skip to ``channel_closed`` and return its Output."""
        while True:
            message = self.next(timeout)
            if message.message_type == MessageType.CHANNEL_CLOSED:
                return str(message.json()["Output"])

    def close(self) -> None:
        self._stack.close()


@pytest.fixture
def client_for() -> Iterator[Callable[[FakeAgent, str], Client]]:
    clients: list[Client] = []

    def make(agent: FakeAgent, session_id: str) -> Client:
        client = Client(f"{agent.url}/v1/data-channel/{session_id}?role=publish_subscribe")
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def new_session(registry: SessionRegistry) -> Callable[..., SessionSpec]:
    """Add a session to the registry (fields override an ECS exec default)."""
    return lambda **changes: add_session(registry, **changes)


@pytest.fixture
def data_key(moto_kms: dict[str, Any]) -> Callable[..., tuple[bytes, bytes]]:
    """GenerateDataKey as the plugin calls it: 64 bytes, context SessionId + TargetId."""

    def generate(session_id: str, target: str) -> tuple[bytes, bytes]:
        response = moto_kms["client"].generate_data_key(
            KeyId=KEY_ALIAS,
            NumberOfBytes=64,
            EncryptionContext={"aws:ssm:SessionId": session_id, "aws:ssm:TargetId": target},
        )
        return bytes(response["Plaintext"]), bytes(response["CiphertextBlob"])

    return generate
