"""What a scenario arranges for a session, the same for a matrix cell and the pytest harness.

The runner (``compat/runner/prepare.py``) and the harness
(``compat/integrations/session_check.py``) promise the
same verdict for the same tool, so the rules that decide it live here once: whether the agent
demands KMS, how the target is seeded, what a session's keys arrange (a websocket dropped once,
the hosts the plugin may reach through the proxy), what the user types, what
:class:`compat.verdict.rules.Setup` the judge gets.
"""

from __future__ import annotations

import contextlib
import random
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compat.fakeaws import Credentials
from compat.verdict.rules import Setup

if TYPE_CHECKING:
    from compat.adapter.model import Kind
    from compat.fakeaws import FakeAWS
    from compat.fakeaws.seed import Ec2Target, EcsTarget
    from compat.plan.scenario import Scenario

__all__ = [
    "PLUGIN_HOSTS",
    "Hold",
    "free_port",
    "judge_setup",
    "kms_demanded",
    "seeded",
    "session_keys",
    "session_marker",
    "shared_resource",
    "shell_input",
]

#: The plugin's KMS and SSM clients ignore ``AWS_ENDPOINT_URL`` (docs/plugin.md §1.3): for a tool
#: that uses the endpoint, only these hosts may go through the proxy; the tool's own client
#: that ignores the endpoint is refused and shows as ``endpoint-ignored``.
PLUGIN_HOSTS = ("kms.*.amazonaws.com", "ssm.*.amazonaws.com")

#: The lowest local port chosen for port forwarding (see :func:`free_port`).
PORTS_FROM = 20000
_PORT_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")

#: ``hold(resource, kms, apply)``: hold a shared resource with a KMS setting while a session
#: runs, ``apply`` setting it (``compat.runner.gate.KmsGate.hold``).
Hold = Callable[[tuple[str, ...], bool, Callable[[], None]], AbstractContextManager[None]]


def kms_demanded(scenario: Scenario) -> bool:
    """Whether the agent demands KMS: a key is configured and the session is a shell (a port
    session is never encrypted by the agent)."""
    return scenario.seed.kms and scenario.user.session == "shell"


def shared_resource(
    scenario: Scenario, kind: Kind, cluster: str | None, document: str | None = None
) -> tuple[str, ...] | None:
    """The resource whose KMS setting other sessions share: the region's Session Manager
    preferences, a customer session document of the region (ssm-ecs's ``RunCommand``), or a
    fixed cluster name (copilot's ``default``); ``None`` when nothing is."""
    if kind == "ssm-session":
        return ("ssm-preferences", scenario.seed.region)
    if document is not None:
        return ("ssm-document", scenario.seed.region, document)
    if cluster is not None:
        return ("ecs-cluster", scenario.seed.region, cluster)
    return None


@contextlib.contextmanager
def _unshared(resource: tuple[str, ...], kms: bool, apply: Callable[[], None]) -> Iterator[None]:
    apply()
    yield


@contextlib.contextmanager
def seeded(
    fake: FakeAWS,
    scenario: Scenario,
    kind: Kind,
    *,
    cluster: str | None = None,
    tags: Mapping[str, str] | None = None,
    hold: Hold = _unshared,
    launch_type: str = "FARGATE",
    document: str | None = None,
) -> Iterator[EcsTarget | Ec2Target]:
    """Seed the session's target (an ECS task on Fargate or on an EC2 container instance, or
    an instance and the region's preferences), tagged with ``tags``, and the customer session
    ``document`` the tool names, and hold its shared resource, if any, until the block ends."""
    kms, region = kms_demanded(scenario), scenario.seed.region
    resource = shared_resource(scenario, kind, cluster, document)
    # One key per region serves every cell: evidence is attributed by session, not by key.
    key: str | bool = fake.seeder.shared_key(region).arn if kms else False

    def preferences() -> None:
        fake.seeder.preferences(region, key)

    if kind == "ssm-session":
        assert resource is not None
        with hold(resource, kms, preferences):
            instance = fake.seed_ec2_instance(region=region, kms_key=None, tags=tags)
            try:
                yield instance
            finally:
                if tags:
                    _retire(fake, instance)
    elif document is not None:
        # The tool opens an SSM session with its own document on the task's host: the
        # document carries the KMS key, the cluster's exec configuration too (as a user would).
        assert resource is not None

        def write_document() -> None:
            fake.seeder.session_document(region, document, key if isinstance(key, str) else None)

        with (
            hold(resource, kms, write_document),
            _on_host(
                fake,
                cluster=cluster,
                kms_key=key,
                region=region,
                tags=tags,
                launch_type=launch_type,
            ) as task,
        ):
            yield task
    elif resource is not None:
        # A fixed cluster name: every session re-seeds it with its own setting, so sessions
        # with the other setting must wait.
        with hold(resource, kms, lambda: None):
            yield fake.seed_ecs_task(cluster=cluster, kms_key=key, region=region, tags=tags)
    elif launch_type != "FARGATE":
        with _on_host(fake, kms_key=key, region=region, tags=tags, launch_type=launch_type) as task:
            yield task
    else:
        yield fake.seed_ecs_task(kms_key=key, region=region, tags=tags)


@contextlib.contextmanager
def _on_host(fake: FakeAWS, **seed: Any) -> Iterator[EcsTarget]:
    """A task seeded by ``Seeder.ecs_task(**seed)``, its EC2 host (launch type EC2) terminated
    when the block ends: a tool listing the region's instances must not meet other cells'."""
    task = fake.seeder.ecs_task(**seed)
    try:
        yield task
    finally:
        if task.instance_id is not None:
            fake.client("ec2", task.region).terminate_instances(InstanceIds=[task.instance_id])


def _retire(fake: FakeAWS, instance: Ec2Target) -> None:
    """Untag and terminate a tagged instance after its cell: a tool that finds instances by
    tag (GetResources, DescribeInstanceInformation) must see only its own cell's."""
    ec2 = fake.client("ec2", instance.region)
    ec2.delete_tags(Resources=[instance.instance_id])
    ec2.terminate_instances(InstanceIds=[instance.instance_id])


def judge_setup(scenario: Scenario, fake: FakeAWS) -> Setup:
    """What the scenario arranged, for :func:`compat.verdict.rules.judge`."""
    return Setup(
        kms=kms_demanded(scenario),
        session=scenario.user.session,
        region=scenario.region,
        user_profile=scenario.user.profile,
        ssm_endpoints=(fake.endpoint_url,),
        reconnect=scenario.seed.drop_websocket_once,
    )


def session_keys(fake: FakeAWS, scenario: Scenario, *, plugin_only: bool) -> Credentials:
    """Fresh keys for one session, and what the fake AWS arranges for them: the websocket
    dropped once (``reconnect``), and with ``plugin_only`` (a tool that uses the endpoint) the
    proxy open to :data:`PLUGIN_HOSTS` alone for them."""
    creds = Credentials.new()
    if scenario.seed.drop_websocket_once:
        fake.registry.drop_once.add(creds.access_key_id)
    if plugin_only and fake.proxy_url is not None:
        fake.proxy.set_allowed_hosts(PLUGIN_HOSTS, access_key_id=creds.access_key_id)
    return creds


def session_marker(creds: Credentials) -> str:
    """What the user's input carries through the session (a shell line, the port probe's
    bytes), unique per session: taken from its access key, which evidence masks anyway."""
    return f"smp-compat-{creds.access_key_id[-8:].lower()}"


def shell_input(marker: str) -> bytes:
    """What a user types in a shell session: a marker line, then ``exit``."""
    return f"echo {marker}\nexit\n".encode()


def _ephemeral_low() -> int:
    """The first port the kernel hands out for ``bind(0)`` and outgoing connections."""
    try:
        return int(_PORT_RANGE.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port free on 127.0.0.1 now, for the forwarded local port, chosen below the kernel's
    ephemeral range.

    A port from ``bind(0)`` goes back to the kernel's pool until the plugin binds it seconds
    later, and any server on the machine that binds port 0 meanwhile may get it: the runner's
    port probe then met that stranger, gave up, and stopped a tool that had not started its
    plugin yet (a ``plugin-not-called``, ``tool exit -15``, with empty output). Below the
    ephemeral range only a program that names the port can take it.
    """
    low = _ephemeral_low()
    if low > PORTS_FROM:
        for _ in range(100):
            port = random.randrange(PORTS_FROM, low)
            if _bindable(port):
                return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
