"""The per-worker response cache: an LRU of representations, bounded in bytes.

A path whose response varies on request headers (the app's own Vary field: Accept, say) keeps
one representation per combination of those headers' values, so a request is only ever answered
with what the app rendered for a request with the same values.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from feedsvc.web.representation import Representation

# Representations kept for one varying path (distinct values of its Vary headers).
MAX_PER_PATH = 16


class _Varying:
    """The representations of one path that varies on request headers, by those values."""

    __slots__ = ("by_values", "keys")

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys
        self.by_values: dict[tuple[Any, ...], Representation] = {}

    @property
    def size(self) -> int:
        return sum(entry.size for entry in self.by_values.values())


class ResponseCache:
    """Per-worker LRU of representations, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, Representation | _Varying] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._held: set[int] = set()  # ids of the representations held, for `grew`

    def get(
        self, key: str, generation: int, request: Mapping[str, Any] | None = None
    ) -> Representation | None:
        """Return the entry for `key` made at `generation` for a request like `request` (its
        WSGI environ: the values of the headers the entry varies on must be the same)."""
        # No lock on the way in: each step is one atomic operation of the C dict; writers
        # (put, drops) hold the lock. This is the warm path.
        found = self._entries.get(key)
        if found is None:
            return None
        entry: Representation | None
        if isinstance(found, _Varying):
            if request is None:
                return None
            entry = found.by_values.get(tuple([request.get(k) for k in found.keys]))
            if entry is None:
                return None
        else:
            entry = found
        if entry.generation != generation:
            with self._lock:
                if self._entries.get(key) is found:
                    self._drop(key)
            return None
        try:  # noqa: SIM105 - contextlib.suppress costs more than the rest of this method
            self._entries.move_to_end(key)
        except KeyError:  # dropped by another thread meanwhile
            pass
        return entry

    def put(
        self, key: str, entry: Representation, request: Mapping[str, Any] | None = None
    ) -> None:
        """Keep `entry` (rendered for `request`), dropping the least recently used ones beyond
        the byte budget."""
        with self._lock:
            held = self._entries.get(key)
            keep_with: _Varying | None = None
            if isinstance(held, _Varying) and entry.vary and held.keys == entry.vary:
                keep_with = held
            elif held is not None:
                self._drop(key)
            if entry.vary is None or entry.size * 4 > self.max_bytes:
                return  # Vary: *; or no room for its compressed bodies too, not worth keeping
            if not entry.vary:
                self._entries[key] = entry
                self._bytes += entry.size
                self._held.add(id(entry))
            elif request is not None:
                self._put_varying(key, entry, request, keep_with)
            self._trim()

    def _put_varying(
        self,
        key: str,
        entry: Representation,
        request: Mapping[str, Any],
        varying: _Varying | None,
    ) -> None:
        keys = entry.vary or ()
        if varying is None:
            varying = _Varying(keys)
            self._entries[key] = varying
        for values, old in list(varying.by_values.items()):
            if old.generation != entry.generation:  # an older state of the catalog
                del varying.by_values[values]
                self._bytes -= old.size
                self._held.discard(id(old))
        values = tuple([request.get(k) for k in keys])
        replaced = varying.by_values.pop(values, None)
        if replaced is not None:
            self._bytes -= replaced.size
            self._held.discard(id(replaced))
        if len(varying.by_values) < MAX_PER_PATH:
            varying.by_values[values] = entry
            self._bytes += entry.size
            self._held.add(id(entry))
        self._entries.move_to_end(key)

    def _trim(self) -> None:
        while self._bytes > self.max_bytes and self._entries:
            self._drop(next(iter(self._entries)))

    def grew(self, entry: Representation, before: int) -> None:
        """Account for compressed bodies added to an entry, if it is kept."""
        with self._lock:
            if id(entry) in self._held:
                self._bytes += entry.size - before
                self._trim()

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._held.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        found = self._entries.pop(key)
        self._bytes -= found.size
        if isinstance(found, _Varying):
            for entry in found.by_values.values():
                self._held.discard(id(entry))
        else:
            self._held.discard(id(found))

    def __len__(self) -> int:
        return len(self._entries)
