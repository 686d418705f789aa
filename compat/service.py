"""A server's lifecycle, once: started once, stopped for sure, a context manager.

The fake AWS, its agent, the warm plugin server and the container relay each run beside the
cells for a while. They differ in what they start; what is around it is the same and lives
here: a second start raises (a stopped server is not restarted: make a new one), a start
that fails half way stops what it did start before the error goes on, :meth:`Service.stop`
is idempotent, ``with`` starts and always stops, and serving threads are non-daemon so that
a stop joins them and none outlives its server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import ClassVar, Literal, Self

__all__ = ["Service"]


class Service:
    """Subclasses say how they start (:meth:`_start`) and stop (:meth:`_stop`), nothing else.

    ``_stop`` runs once, after ``_start`` ran (even when it failed half way), so it must cope
    with the parts that never started.
    """

    #: What a second :meth:`start` raises: the subclass's package names its own.
    start_twice_error: ClassVar[type[Exception]] = RuntimeError
    _lifecycle: Literal["new", "started", "stopped"] = "new"

    @property
    def lifecycle(self) -> Literal["new", "started", "stopped"]:
        """Where the server is: ``new``, ``started`` or ``stopped``."""
        return self._lifecycle

    def start(self) -> Self:
        """Start it (once); when starting fails, what did start is stopped, then it raises."""
        if self._lifecycle != "new":
            name = type(self).__name__
            raise self.start_twice_error(
                f"{name} already started: start() was already called; create a new {name}"
            )
        self._lifecycle = "started"
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop it and join its threads; idempotent, and nothing to do before a start."""
        if self._lifecycle != "started":
            return
        self._lifecycle = "stopped"
        self._stop()

    def _start(self) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        raise NotImplementedError

    @staticmethod
    def _start_thread(target: Callable[[], object], name: str) -> threading.Thread:
        """A started non-daemon thread running ``target``: ``_stop`` must end and join it."""
        thread = threading.Thread(target=target, name=name, daemon=False)
        thread.start()
        return thread

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
