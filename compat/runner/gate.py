"""Shared KMS settings: cells that need the same setting of a shared resource run together.

Session Manager preferences are regional (one ``SSM-SessionManagerRunShell`` per region), and a
tool that only finds tasks in a fixed cluster (copilot's ``default``) shares that cluster's
``executeCommandConfiguration``. Cells that need KMS on and cells that need it off cannot run
at once against the same resource; the gate lets any number of same-setting cells in and
switches the setting only when the resource is idle.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

__all__ = ["KmsGate"]


class KmsGate:
    """Reader-group lock per resource: holders share one setting; switching waits for idle."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._state: dict[Hashable, tuple[bool | None, int]] = {}

    def free(self, key: Hashable, kms: bool) -> bool:
        """Whether :meth:`hold` of ``key`` with ``kms`` would enter now, without waiting."""
        with self._cond:
            setting, holders = self._state.get(key, (None, 0))
            return setting == kms or holders == 0

    @contextmanager
    def hold(self, key: Hashable, kms: bool, apply: Callable[[], None]) -> Iterator[None]:
        """Hold ``key`` with setting ``kms``; ``apply`` sets it when it changes (idle only)."""
        with self._cond:
            while True:
                setting, holders = self._state.get(key, (None, 0))
                if setting == kms or holders == 0:
                    break
                self._cond.wait()
            if setting != kms:
                try:
                    apply()
                except BaseException:
                    self._state[key] = (None, 0)
                    self._cond.notify_all()
                    raise
            self._state[key] = (kms, holders + 1)
        try:
            yield
        finally:
            with self._cond:
                setting, holders = self._state[key]
                self._state[key] = (setting, holders - 1)
                self._cond.notify_all()
