"""Run a tool's command inside a container image, with the sandbox and the relayed fake plugin.

The engine is whatever the Docker SDK reaches (``DOCKER_HOST``, else the default socket):
Docker or ``podman system service``. Engine knobs (runtime, ulimits) stay in the engine's own
configuration (for podman: the ``containers.conf`` written by ``scripts/podman-setup.sh``),
so this module asks only for what every engine understands:

- host networking: the fake AWS listens on 127.0.0.1 of the host;
- the sandbox root bind-mounted at the same path, so ``HOME``, ``AWS_CONFIG_FILE``, the
  record file and the cwd mean the same thing inside and outside;
- every regular file an environment value names by absolute path (``AWS_CA_BUNDLE``: moto's
  CA certificate) bind-mounted read-only at the same path;
- the relay directory at ``/.smp-compat`` and ``/.smp-compat/bin`` first on PATH, so
  ``session-manager-plugin`` is the relay (``compat/runner/container/relay.py``) even when the image
  has no Python;
- ``argv[0]`` as the entrypoint and the rest as its arguments: the image's own ``ENTRYPOINT``
  (``amazon/aws-cli`` has one) would otherwise be prepended to the adapter's command.

Nothing is pulled: an image missing from the engine is a reason to skip, not a download.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlparse

from compat.launcher.shim import PLUGIN_NAME
from compat.runner.container.ending import ending
from compat.runner.container.relay import CONTAINER_DIR, RelayServer, build_relay
from compat.runner.errors import ContainerError, RelayBuildError
from compat.runner.sandbox import Sandbox

__all__ = [
    "LABEL",
    "ContainerResult",
    "docker_client",
    "engine_available",
    "image_missing",
    "own_containers",
    "owner",
    "run_in_container",
    "sdk",
]

#: Every container this module creates carries this label (``docker ps -a -f label=...``);
#: its value is the creating process's :func:`owner`.
LABEL = "io.smp-compat.runner"
#: Used when an image declares no PATH (an imported rootfs with no ``ENV``).
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: Seconds to let the attach stream drain after the container ended.
_DRAIN = 5.0
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ContainerResult:
    """How the tool's container ended, with what it wrote (stdout holds both when ``tty``)."""

    returncode: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool
    duration_s: float = 0.0
    #: Plugin starts that went through the relay (0: the tool never called the plugin).
    relayed: int = 0
    #: Set when neither the tool nor the kit's timeout ended the container: why (removed or
    #: killed by someone else on the engine, OOM); also appended to ``stderr``.
    why_ended: str = ""


_OWNERS: dict[int, str] = {}


def owner() -> str:
    """This process's value of :data:`LABEL`: one engine serves every kit run and test session
    of the machine, so a cleanup by the label alone would kill the others' running containers
    (they end with 137 and no output); :func:`own_containers` lists only this process's."""
    pid = os.getpid()
    return _OWNERS.setdefault(pid, f"{pid}-{uuid.uuid4().hex[:8]}")


def own_containers(client: Any, *, include_stopped: bool = True) -> list[Any]:
    """The containers this process created and the engine still has."""
    filters = {"label": f"{LABEL}={owner()}"}
    return list(client.containers.list(all=include_stopped, filters=filters))


def sdk(name: str = "docker") -> ModuleType:
    """The Docker SDK (or one of its modules), imported on first use: the kit needs it only
    once a variant names an image, and the SDK ships no type information (hence Any)."""
    return importlib.import_module(name)


def docker_client(timeout: float = 10.0) -> Any:
    """A Docker SDK client from the environment (``DOCKER_HOST``, ``DOCKER_TLS_VERIFY``...)."""
    return sdk().from_env(timeout=max(1, round(timeout)))


def _no_local_engine() -> str | None:
    host = os.environ.get("DOCKER_HOST", "")
    if not host:
        if Path("/var/run/docker.sock").exists():
            return None
        return (
            "no container engine: DOCKER_HOST is not set and /var/run/docker.sock does not "
            "exist (scripts/podman-setup.sh starts podman and prints the DOCKER_HOST to use)"
        )
    url = urlparse(host)
    if url.scheme == "unix":
        if not Path(url.path).exists():
            return f"no container engine: DOCKER_HOST={host} names a socket that does not exist"
        return None
    if url.scheme in ("tcp", "http", "https") and url.hostname in _LOCAL_HOSTS:
        return None
    return (
        f"DOCKER_HOST={host} is not a local engine: the container runner bind-mounts the "
        "sandbox and a unix socket from this machine"
    )


def engine_available(image: str | None = None, *, timeout: float = 5.0) -> str | None:
    """None when a container cell can run, else the reason it must be ``skipped``.

    Checks, cheapest first: the ``docker`` package, a local engine address, the engine
    answering a ping within ``timeout`` seconds, the static relay (built once into the
    cache), and ``image`` present in the engine (never pulled).
    """
    try:
        sdk()
    except ImportError:
        return "the docker Python package is not installed (pip install docker)"
    reason = _no_local_engine()
    if reason is not None:
        return reason
    try:
        client = docker_client(timeout=timeout)
    except Exception as exc:  # the SDK raises DockerException and OSError alike
        return f"container engine not reachable: {exc}"
    try:
        client.ping()
    except Exception as exc:
        where = os.environ.get("DOCKER_HOST", "the default socket")
        return f"container engine at {where} not answering: {exc}"
    try:
        build_relay()
    except RelayBuildError as exc:
        return str(exc)
    if image is not None:
        return image_missing(client, image)
    return None


def image_missing(client: Any, image: str) -> str | None:
    """None if ``image`` is in the engine, else why not (the kit pulls nothing)."""
    errors = sdk("docker.errors")
    try:
        client.images.get(image)
    except errors.ImageNotFound:
        return f"image {image} is not in the container engine (pull or build it first)"
    except errors.APIError as exc:
        return f"image {image}: the engine said {exc}"
    return None


def _image_path(client: Any, image: str) -> str:
    config = client.images.get(image).attrs.get("Config") or {}
    for entry in config.get("Env") or []:
        name, _, value = str(entry).partition("=")
        if name == "PATH" and value:
            return value
    return DEFAULT_PATH


def _mounts(env: Mapping[str, str], sandbox: Sandbox, relay_dir: Path) -> dict[str, Any]:
    root = sandbox.root.resolve()
    volumes: dict[str, Any] = {
        str(root): {"bind": str(root), "mode": "rw"},
        str(relay_dir): {"bind": CONTAINER_DIR, "mode": "rw"},
    }
    for value in env.values():
        if not value.startswith("/") or os.pathsep in value:
            continue
        path = Path(value)
        with contextlib.suppress(OSError):
            if path.is_file() and not path.resolve().is_relative_to(root):
                volumes[str(path.resolve())] = {"bind": value, "mode": "ro"}
    return volumes


def _container_env(env: Mapping[str, str], image_path: str) -> dict[str, str]:
    values = dict(env)
    values["PATH"] = f"{CONTAINER_DIR}/bin:{image_path}"
    return values


#: Bytes of stdout, and of stderr, kept as they arrive (as compat.runner.process.OUTPUT_CAP:
#: a tool printing without end must not fill the kit's memory, issue 13 item 8).
OUTPUT_CAP = 4 * 1024 * 1024
_CUT_NOTE = b"\n[smp-compat: output cut at %d bytes as it was written]\n"


def _keep(buffer: bytearray, data: bytes) -> None:
    """Append ``data`` up to :data:`OUTPUT_CAP`; the first byte past it adds the cut note."""
    room = OUTPUT_CAP - len(buffer)
    if room > 0:
        buffer.extend(data[:room])
        if len(data) > room:
            buffer.extend(_CUT_NOTE % OUTPUT_CAP)


def _demux(stream: bytes, out: bytearray, err: bytearray) -> bytes:
    """Split Docker's multiplexed attach stream (8-byte headers: stream, 0, 0, 0, size);
    returns the incomplete tail to prepend to the next chunk."""
    while len(stream) >= 8:
        size = int.from_bytes(stream[4:8], "big")
        if len(stream) < 8 + size:
            break
        _keep(err if stream[0] == 2 else out, stream[8 : 8 + size])
        stream = stream[8 + size :]
    return stream


def _read_attach(raw: socket.socket, tty: bool, out: bytearray, err: bytearray) -> None:
    pending = b""
    while True:
        try:
            chunk = raw.recv(65536)
        except OSError:
            return
        if not chunk:
            break
        if tty:
            _keep(out, chunk)
        else:
            pending = _demux(pending + chunk, out, err)


def run_in_container(
    image: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    sandbox: Sandbox,
    *,
    stdin: bytes = b"",
    timeout: float = 60.0,
    tty: bool = False,
    cwd: Path | None = None,
    user: str | None = None,
) -> ContainerResult:
    """Run ``argv`` (as the image knows it: ``["aws", "ecs", ...]``) in ``image`` to its end.

    ``env`` is the tool's environment (the sandbox's, plus the adapter's); PATH is replaced by
    the relay directory plus the image's PATH. stdin is a pipe holding ``stdin`` that stays
    open until the container ends (at EOF a real plugin ends a shell session), or a terminal
    with ``tty``. At ``timeout`` the container is killed; it is always removed.

    Raises:
        ContainerError: the engine refused to create or start the container (a missing
            image, a bad mount); call :func:`engine_available` first to skip instead.
        RelayBuildError: the relay could not be built (no gcc); ditto.
    """
    errors = sdk("docker.errors")
    # The SDK's transport: a wait that times out raises its exception.
    transport_errors = sdk("requests.exceptions")
    if not argv:
        raise ContainerError("run_in_container needs a command")
    started = time.monotonic()
    client = docker_client(timeout=max(timeout, 10.0))
    shim = sandbox.bin_dir / PLUGIN_NAME
    workdir = cwd or sandbox.root
    out, err = bytearray(), bytearray()
    with RelayServer(shim, build_relay(), fallback_cwd=workdir) as relay:
        assert relay.directory is not None
        try:
            container = client.containers.create(
                image,
                entrypoint=[argv[0]],
                command=list(argv[1:]),
                environment=_container_env(env, _image_path(client, image)),
                working_dir=str(workdir),
                volumes=_mounts(env, sandbox, relay.directory),
                network_mode="host",
                stdin_open=True,
                tty=tty,
                user=user or "",
                labels={LABEL: owner()},
                name=f"smp-compat-{uuid.uuid4().hex[:12]}",
            )
        except errors.DockerException as exc:
            raise ContainerError(f"creating a container from {image}: {exc}") from exc
        reader: threading.Thread | None = None
        raw: socket.socket | None = None
        timed_out = False
        try:
            params = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            attached = container.attach_socket(params=params)
            # The SDK hands back a SocketIO over the hijacked connection; writing stdin
            # needs the socket under it (docker-py's documented idiom).
            raw = getattr(attached, "_sock", attached)
            assert raw is not None
            reader = threading.Thread(
                target=_read_attach, args=(raw, tty, out, err), name="container-attach"
            )
            reader.start()
            try:
                container.start()
            except errors.DockerException as exc:
                raise ContainerError(f"starting a container from {image}: {exc}") from exc
            if stdin:
                with contextlib.suppress(OSError):
                    raw.sendall(stdin)
            remaining = max(0.1, timeout - (time.monotonic() - started))
            answer: dict[str, Any] | None = None
            try:
                answer = container.wait(timeout=remaining)
            except errors.NotFound:
                pass  # removed before the wait: ending() says so
            except (transport_errors.RequestException, OSError):
                timed_out = True
                with contextlib.suppress(errors.DockerException):
                    container.kill()
                with contextlib.suppress(Exception):
                    answer = container.wait(timeout=10)
            reader.join(timeout=_DRAIN)
            # Read before the removal below: the engine forgets the container's State with it.
            end = ending(container, answer, killed_by_us=timed_out)
            if end.why:
                _keep(err, f"\n[smp-compat: {end.why}]\n".encode())
        finally:
            with contextlib.suppress(errors.DockerException):
                container.remove(force=True)
            if raw is not None:
                with contextlib.suppress(OSError):
                    raw.close()
            if reader is not None:
                reader.join(timeout=_DRAIN)
        relayed = relay.connections
    return ContainerResult(
        returncode=end.returncode,
        stdout=bytes(out),
        stderr=bytes(err),
        timed_out=timed_out,
        duration_s=time.monotonic() - started,
        relayed=relayed,
        why_ended=end.why,
    )
