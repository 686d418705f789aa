"""The container runner: a variant's command in an image, the fake plugin relayed from the host."""

from compat.runner.container.engine import (
    ContainerResult,
    engine_available,
    image_missing,
    run_in_container,
)
from compat.runner.container.relay import RelayServer, build_relay
from compat.runner.errors import ContainerError, RelayBuildError

__all__ = [
    "ContainerError",
    "ContainerResult",
    "RelayBuildError",
    "RelayServer",
    "build_relay",
    "engine_available",
    "image_missing",
    "run_in_container",
]
