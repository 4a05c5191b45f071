"""The per-worker response cache: an LRU of representations, bounded in bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feedsvc.web.representation import Representation


class ResponseCache:
    """Per-worker LRU of representations, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, Representation] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str, generation: int) -> Representation | None:
        """Return the entry for `key` if it was made at `generation`."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.generation != generation:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: Representation) -> None:
        """Keep `entry`, dropping the least recently used ones beyond the byte budget."""
        with self._lock:
            if key in self._entries:
                self._drop(key)
            if entry.size * 4 > self.max_bytes:
                return  # room for its compressed bodies too, or not worth keeping
            self._entries[key] = entry
            self._bytes += entry.size
            while self._bytes > self.max_bytes and self._entries:
                self._drop(next(iter(self._entries)))

    def grew(self, entry: Representation, before: int) -> None:
        """Account for compressed bodies added to a kept entry."""
        with self._lock:
            self._bytes += entry.size - before

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size

    def __len__(self) -> int:
        return len(self._entries)
