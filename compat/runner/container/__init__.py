"""The container runner: a variant's command in an image, the fake plugin relayed from the host."""

from compat.runner.container.engine import (
    ContainerError,
    ContainerResult,
    engine_available,
    image_missing,
    run_in_container,
)
from compat.runner.container.relay import RelayBuildError, RelayServer, build_relay

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
