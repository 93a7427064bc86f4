"""Values read moments ago, kept per container for hot read paths that can tolerate a few seconds of staleness
(the portal's POSTs read the same organisation's settings and connection on every call). A write made in this
container forgets the key at once; a write made elsewhere is seen within `max_age_s`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Recent(Generic[T]):
    def __init__(self, max_age_s: float, max_entries: int = 1024) -> None:
        self.max_age_s = max_age_s
        self.max_entries = max_entries
        self._values: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, load: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            kept = self._values.get(key)
        if kept is not None and now - kept[0] < self.max_age_s:
            return kept[1]
        value = load()
        with self._lock:
            if len(self._values) >= self.max_entries:
                self._values.clear()  # a warm container serves few organisations; never grow without bound
            self._values[key] = (now, value)
        return value

    def forget(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)
