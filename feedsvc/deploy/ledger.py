"""This machine's copy of a target's deploy state (state.py): what it sent there and with which
headers, and the marker of the last deploy it made. A deploy trusts it instead of listing the
target (a bucket answers a listing 1,000 keys a request: ~40 s for 50,000 objects) as long as
the target's marker still names that deploy, that is while no other machine deployed there.

It lives beside the export (`.<export>.deploy/`), one snapshot and one journal per target. The
snapshot is the whole state; the journal the changes since, one JSON line each, appended as
objects are sent, so a change costs a few lines, not a rewrite of the whole state. Before a
stage is sent its keys are forgotten (a line, flushed to disk): a deploy killed midway trusts
nothing it may have half-changed. A torn last line is ignored. The journal is folded into the
snapshot when it grows long. The state read last is kept in memory while its files are the
ones this process wrote, so continuous publishing reads it once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feedsvc.deploy.state import SentObject, document, records_of
from feedsvc.errors import DeployError
from feedsvc.support.atomic import write_file

FOLD_AT = 5000  # journal lines that make the next deploy fold it into the snapshot
_Signature = tuple[tuple[int, int, int], ...]


def folder_for(export_dir: Path) -> Path:
    """Return where the copies of the deploys of the export in `export_dir` are kept."""
    export_dir = export_dir.resolve()
    return export_dir.with_name(f".{export_dir.name}.deploy")


def _stat(path: Path) -> tuple[int, int, int]:
    try:
        status = path.stat()
    except FileNotFoundError:
        return (0, 0, 0)
    return (status.st_size, status.st_mtime_ns, status.st_ino)


@dataclass(slots=True)
class Ledger:
    """The state of one target as this machine left it; every change is journaled first."""

    snapshot: Path
    journal: Path
    token: str | None = None  # the marker of the deploy this state belongs to
    level: str | None = None  # the export (plan.export_digest) the target holds, all of it
    records: dict[str, SentObject] = field(default_factory=dict)
    lines: int = 0  # in the journal
    rows: int = 0  # objects the journal's lines name (a full deploy's line names every file)
    unshared: int = 0  # objects sent since the copy at the target was last written
    _torn: bool = False  # the journal ends in a part of a line

    def signature(self) -> _Signature:
        return (_stat(self.snapshot), _stat(self.journal))

    def _load(self) -> None:
        try:
            found: Any = json.loads(self.snapshot.read_bytes())
            self.records = records_of(found.get("state"))
            self.token = found.get("token") if self.records else None
            self.level = found.get("level") if self.records else None
            self.unshared = int(found.get("unshared", 0))
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError, AttributeError):
            self.records, self.token, self.level = {}, None, None  # damaged: as if none
        try:
            data = self.journal.read_bytes()
        except FileNotFoundError:
            return
        except OSError:
            self.records, self.token, self.level = {}, None, None
            return
        self._torn = bool(data) and not data.endswith(b"\n")
        for line in data.splitlines():
            try:
                self._apply(json.loads(line))
            except (ValueError, TypeError, KeyError, IndexError):
                continue  # a line torn by a kill: what it says was never acted on
            self.lines += 1

    def _apply(self, change: list[Any]) -> None:
        kind = change[0]
        if kind == "level":
            self.level = change[1]
            return
        self.level = None  # any change: until a deploy ends, the target is not level
        if kind == "token":
            self.token = change[1]
        elif kind == "forget":
            for key in change[1]:
                self.records.pop(key, None)
            self.rows += len(change[1])
        elif kind == "put":
            self.rows += len(change[1])
            for key, md5, tag, meta in change[1]:
                pairs = tuple((str(name), str(value)) for name, value in meta)
                self.records[key] = SentObject(md5, tag, pairs)
            self.unshared += len(change[1])
        elif kind == "shared":
            self.unshared = 0

    def _append(self, changes: list[list[Any]], *, durable: bool = False) -> None:
        text = "".join(json.dumps(c, separators=(",", ":")) + "\n" for c in changes)
        if self._torn:
            text = "\n" + text
        try:
            self.journal.parent.mkdir(parents=True, exist_ok=True)
            with self.journal.open("a", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                if durable:
                    os.fsync(file.fileno())
        except OSError as exc:
            raise DeployError(str(self.journal), f"cannot be written: {exc.strerror}") from None
        self._torn = False
        for change in changes:
            self._apply(change)
        self.lines += len(changes)

    def begin(self, token: str) -> None:
        """Note that the deploy `token` starts changing the target."""
        self._append([["token", token]], durable=True)

    def forget(self, keys: list[str]) -> None:
        """Trust nothing about these keys any more (they are about to be sent or deleted)."""
        if keys:
            self._append([["forget", keys]], durable=True)

    def sent(self, records: dict[str, SentObject]) -> None:
        """Note what the target holds now for these keys."""
        if records:
            rows = [[k, r.md5, r.tag, [list(p) for p in r.meta]] for k, r in records.items()]
            self._append([["put", rows]])

    def levelled(self, digest: str) -> None:
        """Note that the target now holds all of the export whose digest is `digest`."""
        if self.level != digest:
            self._append([["level", digest]])

    def shared(self) -> None:
        """Note that the target's own copy of the state was just written."""
        self._append([["shared"]])

    def replace(self, token: str | None, records: dict[str, SentObject]) -> None:
        """Make this the whole state (after a verify), written as a new snapshot."""
        self.token, self.records = token, dict(records)
        self.fold()

    def due(self) -> bool:
        """Return whether the journal is worth folding into the snapshot: many lines, or more
        objects than the state holds (replaying it would cost more than reading a snapshot)."""
        return self.lines >= FOLD_AT or self.rows > max(FOLD_AT, len(self.records))

    def fold(self) -> None:
        """Write the whole state as the snapshot and empty the journal."""
        body = {
            "state": document(self.records),
            "token": self.token,
            "level": self.level,
            "unshared": self.unshared,
        }
        try:
            self.snapshot.parent.mkdir(parents=True, exist_ok=True)
            write_file(self.snapshot, json.dumps(body, separators=(",", ":")).encode("utf-8"))
            # Replaying the old journal over the new snapshot gives the same state: a kill
            # between the two steps loses nothing.
            self.journal.unlink(missing_ok=True)
        except OSError as exc:
            raise DeployError(str(self.snapshot), f"cannot be written: {exc.strerror}") from None
        self.lines, self.rows, self._torn = 0, 0, False


_OPEN: dict[Path, tuple[_Signature, Ledger]] = {}


def open_ledger(folder: Path, target: str, endpoint: str | None) -> Ledger:
    """Return this machine's state of `target` (at `endpoint`), empty when it has none."""
    name = hashlib.sha256(f"{target}\n{endpoint or ''}".encode()).hexdigest()[:20]
    ledger = Ledger(folder / f"{name}.json", folder / f"{name}.journal")
    kept = _OPEN.get(ledger.snapshot)
    if kept is not None and kept[0] == ledger.signature():
        return kept[1]
    ledger._load()
    return ledger


def keep(ledger: Ledger) -> None:
    """Remember `ledger` in memory as what its files now hold."""
    with contextlib.suppress(OSError):
        _OPEN[ledger.snapshot] = (ledger.signature(), ledger)
