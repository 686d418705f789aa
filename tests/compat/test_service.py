"""compat.service: the lifecycle every server of the kit shares."""

from __future__ import annotations

import threading

import pytest

from compat.service import Service


class _Server(Service):
    """A server with one serving thread; ``fail`` makes its start break half way."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.stops = 0
        self._quit = threading.Event()
        self.thread: threading.Thread | None = None

    def _start(self) -> None:
        self.thread = self._start_thread(self._quit.wait, "test-serve")
        if self.fail:
            raise OSError("the port is taken")

    def _stop(self) -> None:
        self.stops += 1
        self._quit.set()
        if self.thread is not None:
            self.thread.join()


def test_with_starts_and_stops_once_and_joins_the_thread() -> None:
    with _Server() as server:
        assert server.lifecycle == "started"
        assert server.thread is not None and server.thread.is_alive()
        assert not server.thread.daemon
    assert server.lifecycle == "stopped"
    assert not server.thread.is_alive()
    server.stop()
    assert server.stops == 1


def test_a_second_start_raises_the_servers_own_error() -> None:
    class _Twice(_Server):
        start_twice_error = ValueError

    server = _Twice().start()
    try:
        with pytest.raises(ValueError, match="already started"):
            server.start()
    finally:
        server.stop()
    with pytest.raises(ValueError, match="already called"):
        server.start()  # a stopped server is not restarted either


def test_a_failed_start_stops_what_did_start() -> None:
    server = _Server(fail=True)
    with pytest.raises(OSError, match="the port is taken"):
        server.start()
    assert server.stops == 1
    assert server.thread is not None and not server.thread.is_alive()


def test_stop_before_start_does_nothing() -> None:
    server = _Server()
    server.stop()
    assert (server.stops, server.lifecycle) == (0, "new")
