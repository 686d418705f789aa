"""``FakeAWS``: moto, the proxy and the fake agent on 127.0.0.1, started once per run."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from compat.agent.sessions import SessionRegistry
from compat.fakeaws import ids
from compat.fakeaws.errors import FakeAWSError
from compat.fakeaws.proxy import AWSProxy, ca_bundle_path
from compat.fakeaws.seed import Ec2Target, EcsTarget, Seeder
from compat.service import Service

#: Loopback names a sandboxed tool must reach directly, never through the proxy.
NO_PROXY = "127.0.0.1,localhost"


@dataclass(frozen=True)
class Credentials:
    """Fake static keys; the access key id identifies the sandbox in every record."""

    access_key_id: str
    secret_access_key: str

    @classmethod
    def new(cls) -> Credentials:
        return cls(ids.fake_access_key_id(), ids.fake_secret_access_key())


class FakeAWS(Service):
    """moto extended (``moto_ext``), proxy mode and the fake agent, on free loopback ports.

    Lifecycle as pytest-httpserver's: :meth:`start` binds port 0 and reads the
    ports back, :meth:`stop` is idempotent and joins threads, a second start raises. moto's
    backends are process-wide, so one FakeAWS runs per process at a time.
    """

    #: The running FakeAWS of this process: moto's backends and patches are process-wide.
    _running: ClassVar[FakeAWS | None] = None
    _running_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        *,
        region: str = "eu-west-1",
        proxy: bool = True,
        agent: bool = True,
        transcript_dir: Path | None = None,
        verify: bool = True,
        shell_start_s: float = 0.0,
        resend_interval_s: float = 0.05,
    ) -> None:
        """``agent``: start the fake agent (``False``: moto and the proxy only). ``verify`` runs
        :func:`moto_ext.verify_dispatch` at start.

        ``shell_start_s`` and ``resend_interval_s`` pace the agent (``AgentConfig``: 50 ms
        and 250 ms). With a pty that opens after HandshakeComplete, the plugin's first input
        is refused and comes back after its retransmission timeout (0.3-1 s); with one open
        at once, the prompt meets a plugin not ready for it and the agent sends it again.
        Either way every encrypted session waited ~0.3 s, a third of a replay cell. The
        stage's sessions judge the tool, not these resends (they have tests of their own), so
        its shell opens at once and its agent resends after 50 ms, near what the data
        channel's retransmission timeout (round trip + max(10 ms, 4 x its variation),
        streaming.go:830-846) comes to on a fast, steady link.
        """
        self.region = region
        self.registry = SessionRegistry()
        self._want_proxy = proxy
        self._want_agent = agent
        self._transcript_dir = transcript_dir
        self._verify = verify
        self._shell_start_s = shell_start_s
        self._resend_interval_s = resend_interval_s
        self._workdir: Path | None = None
        self._moto: Any = None
        self._moto_ecs: Any = None
        self._proxy: AWSProxy | None = None
        self._agent: Any = None
        self._seeder: Seeder | None = None
        self.credentials = Credentials.new()

    @classmethod
    def running(cls) -> FakeAWS | None:
        """The FakeAWS started in this process, if any: moto's state is process-wide, so a
        second stage must share it rather than start (the pytest plugin does)."""
        with cls._running_lock:
            return cls._running

    # --- lifecycle ---------------------------------------------------------------------

    start_twice_error = FakeAWSError

    def _start(self) -> None:
        with FakeAWS._running_lock:
            if FakeAWS._running is not None:
                raise FakeAWSError(
                    "another FakeAWS is running in this process (moto's state is process-wide); "
                    "stop it first or share it"
                )
            FakeAWS._running = self
        from compat.fakeaws import moto_ext  # noqa: PLC0415 - moto loads only on start

        moto_ext.install(self.registry)
        if self._verify:
            moto_ext.verify_dispatch()
        # No reset: moto's state is process-wide and may hold a suite's own resources
        # (mock_aws, a conftest's seed). Everything a stage seeds has a unique name.
        self._workdir = Path(tempfile.mkdtemp(prefix="smp-compat-fakeaws-"))
        self._moto = moto_ext.MotoServer()
        self._moto.start()
        # ECS gets a port of its own (same backends): a caller that hands the plugin its
        # ECS client's endpoint as argv[6] is then told apart from one that passes SSM's.
        self._moto_ecs = moto_ext.MotoServer()
        self._moto_ecs.start()
        host, port = self._moto.address
        self.registry.ssm_hosts = frozenset({f"{host}:{port}", f"localhost:{port}"})
        if self._want_proxy:
            self._proxy = AWSProxy(self._workdir / "certs")
            self._proxy.start()
        self._start_agent()
        self._seeder = Seeder(
            self.endpoint_url, self.credentials.access_key_id, self.credentials.secret_access_key
        )

    def _start_agent(self) -> None:
        if not self._want_agent:
            return
        from compat.agent.server import FakeAgent  # noqa: PLC0415 - websockets loads on start

        assert self._workdir is not None
        transcripts = self._transcript_dir or self._workdir / "transcripts"
        transcripts.mkdir(parents=True, exist_ok=True)
        self._agent = FakeAgent(
            self.registry,
            kms_endpoint_url=self.endpoint_url,
            transcript_dir=transcripts,
            shell_start_s=self._shell_start_s,
            resend_interval_s=self._resend_interval_s,
        )
        self._agent.start()
        self.registry.agent_url = str(self._agent.url)

    def _stop(self) -> None:
        """Stop the agent, the proxy and moto, joining their threads."""
        if self._agent is not None:
            self._agent.stop()
        if self._proxy is not None:
            self._proxy.stop()
        for server in (self._moto_ecs, self._moto):
            if server is not None:
                server.stop()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        from compat.fakeaws import moto_ext  # noqa: PLC0415

        moto_ext.unbind(self.registry)
        with FakeAWS._running_lock:
            if FakeAWS._running is self:
                FakeAWS._running = None

    def reset(self) -> None:
        """Forget all AWS resources, sessions and proxy records (between cells or runs).

        moto's state is process-wide: call it only when no cell is running, and never on a
        FakeAWS that shares the process with a suite's own moto state (it would go too).
        """
        from compat.fakeaws import moto_ext  # noqa: PLC0415

        moto_ext.reset_backends()
        if self._seeder is not None:
            self._seeder.forget_resources()
        self.registry.clear()
        if self._proxy is not None:
            self._proxy.reset()

    # --- addresses ---------------------------------------------------------------------

    def _require_started(self) -> None:
        if self.lifecycle != "started":
            raise FakeAWSError(f"FakeAWS is {self.lifecycle}; call start() first")

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT`` of moto: ``AWS_ENDPOINT_URL`` / ``--endpoint-url``."""
        self._require_started()
        host, port = self._moto.address
        return f"http://{host}:{port}"

    @property
    def ecs_endpoint_url(self) -> str:
        """ECS's own endpoint (``AWS_ENDPOINT_URL_ECS``): the same moto, another port."""
        self._require_started()
        host, port = self._moto_ecs.address
        return f"http://{host}:{port}"

    @property
    def proxy(self) -> AWSProxy:
        self._require_started()
        if self._proxy is None:
            raise FakeAWSError("FakeAWS was started with proxy=False")
        return self._proxy

    @property
    def proxy_url(self) -> str | None:
        return self._proxy.url if self._proxy is not None else None

    @property
    def ca_bundle(self) -> Path:
        """The CA certificate that signs the proxy's TLS certificates (moto's)."""
        return ca_bundle_path()

    @property
    def agent_url(self) -> str | None:
        return str(self._agent.url) if self._agent is not None else None

    def wait_transcript(self, session_id: str, timeout: float = 10.0) -> dict[str, Any] | None:
        """The agent's finished transcript of ``session_id``, waiting up to ``timeout`` s.

        ``None`` when the session never reached the agent or did not end in time.
        """
        self._require_started()
        if self._agent is None:
            raise FakeAWSError("FakeAWS was started without the fake agent")
        found: dict[str, Any] | None = self._agent.wait_closed(session_id, timeout)
        return found

    def wait_dropped(self, access_key_id: str, timeout: float) -> bool:
        """Whether a session of ``access_key_id`` lost its websocket and is not resumed (yet),
        waiting up to ``timeout`` s for that (the ``reconnect`` scenario's drop)."""
        self._require_started()
        if self._agent is None:
            return False
        dropped: bool = self._agent.wait_dropped(access_key_id, timeout)
        return dropped

    def bound_addresses(self) -> list[tuple[str, int]]:
        """Every listening address (for the "nothing beyond 127.0.0.1" check)."""
        self._require_started()
        addresses = [self._moto.address, self._moto_ecs.address]
        if self._proxy is not None:
            addresses.append(self._proxy.address)
        if self._agent is not None:
            url = str(self._agent.url).split("://", 1)[-1].split("/", 1)[0]
            host, _, port = url.rpartition(":")
            addresses.append((host, int(port)))
        return addresses

    # --- the sandbox's environment ---------------------------------------------------------

    def env(
        self,
        credentials: Credentials | None = None,
        *,
        region: str | None = None,
        proxy: bool = True,
        endpoint: bool = True,
        ssl_cert_file: bool = False,
    ) -> dict[str, str]:
        """The variables a sandboxed tool needs to reach only this fake AWS.

        - ``AWS_ENDPOINT_URL``: boto3/awscli and aws-sdk-go-v2 >= config v1.21.0
          (docs/ecosystem.md §2);
          ``AWS_ENDPOINT_URL_ECS`` gives ECS its own port, so argv[6] shows whose endpoint a
          caller hands the plugin (the AWS CLI passes its ECS client's: docs/plugin.md §1.2).
        - ``HTTPS_PROXY``/``HTTP_PROXY`` (both cases) + ``AWS_CA_BUNDLE``: SDKs that ignore the
          endpoint (aws-sdk-go v1, the plugin's KMS client: docs/plugin.md §1.3, §4). Go reads
          only the upper-case names, curl and Python both. ``NO_PROXY`` keeps loopback (moto,
          the agent's websocket) direct. The URL is the credentials' own port of the proxy, so
          even a TLS handshake a client refuses is recorded as theirs.
        - ``AWS_REGION`` and ``AWS_DEFAULT_REGION``: aws-sdk-go v1 reads the latter only with
          ``AWS_SDK_LOAD_CONFIG`` (docs/ecosystem.md §2).
        - ``AWS_EC2_METADATA_DISABLED``: no IMDS probe to 169.254.169.254 (it would only reach
          the proxy and be refused, after SDK timeouts).
        - ``SSL_CERT_FILE`` only on request: Go's fallback trust store (docs/plugin.md §4 observed
          that ``AWS_CA_BUNDLE`` suffices for the plugin).
        """
        self._require_started()
        creds = credentials or Credentials.new()
        region = region or self.region
        values = {
            "AWS_ACCESS_KEY_ID": creds.access_key_id,
            "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        if endpoint:
            values["AWS_ENDPOINT_URL"] = self.endpoint_url
            values["AWS_ENDPOINT_URL_ECS"] = self.ecs_endpoint_url
        if proxy and self._proxy is not None:
            url = self._proxy.url_for(creds.access_key_id)  # the port names the key: proxy.py
            for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
                values[name] = url
            values["NO_PROXY"] = values["no_proxy"] = NO_PROXY
            values["AWS_CA_BUNDLE"] = str(self.ca_bundle)
            if ssl_cert_file:
                values["SSL_CERT_FILE"] = str(self.ca_bundle)
        return values

    # --- seeding -----------------------------------------------------------------------

    @property
    def seeder(self) -> Seeder:
        self._require_started()
        assert self._seeder is not None
        return self._seeder

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client on the endpoint (the harness's own calls; no proxy)."""
        return self.seeder.client(service, region or self.region)

    def seed_ecs_task(
        self,
        *,
        cluster: str | None = None,
        kms_key: bool | str = False,
        exec_enabled: bool = True,
        containers: Sequence[str] = ("app",),
        region: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> EcsTarget:
        """See :meth:`Seeder.ecs_task`."""
        return self.seeder.ecs_task(
            region=region or self.region,
            cluster=cluster,
            kms_key=kms_key,
            exec_enabled=exec_enabled,
            containers=containers,
            tags=tags,
        )

    def seed_ec2_instance(
        self,
        *,
        region: str | None = None,
        kms_key: bool | str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Ec2Target:
        """See :meth:`Seeder.ec2_instance` (Session Manager preferences are regional)."""
        return self.seeder.ec2_instance(region=region or self.region, kms_key=kms_key, tags=tags)

    def set_exec_agent_status(self, target: EcsTarget, status: str) -> None:
        """Scenario knob: the task's ExecuteCommandAgent is e.g. ``STOPPED``."""
        from compat.fakeaws import moto_ext  # noqa: PLC0415

        moto_ext.set_managed_agent_status(
            "123456789012", target.region, target.cluster_name, target.task_id, status
        )
