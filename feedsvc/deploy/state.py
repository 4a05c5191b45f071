"""What a target holds, as the last deploy left it: for every key, the MD5 of the bytes sent,
the store's tag for them and the headers they were sent with.

Object storage lists each object's ETag (the MD5 of a single-part upload) but not its
headers; this record, kept at the target as STATE_NAME, says which headers each object has,
so a changed Content-Type or Cache-Control is sent again without one HEAD request per object.
The deploying machine keeps its own copy (ledger.py); the copy at the target is what another
machine starts from when it verifies. MARKER_NAME, a few bytes, names the last deploy that
changed the target: a machine whose copy names another one verifies before trusting it.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from typing import Any

from feedsvc.support.compress import gzip_bytes

STATE_NAME = ".feedsvc-deployed.json.gz"
MARKER_NAME = ".feedsvc-deployed.marker"
# The target's own bookkeeping: dot files, so never deleted by a deploy nor served by nginx.
BOOKKEEPING = (STATE_NAME, MARKER_NAME)
MARKER_LIMIT = 4096  # bytes a marker may have
_FORMAT = 1

Meta = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class SentObject:
    """One object at the target as a deploy left it."""

    md5: str  # hex MD5 of the bytes sent
    tag: str  # object storage: the ETag it answered; a folder: the file's size, mtime and inode
    meta: Meta = ()  # the put_object parameters it was sent with (ContentType, CacheControl, ...)


def encode(records: dict[str, SentObject]) -> bytes:
    """Return the state as deterministic gzipped JSON; each set of headers is written once."""
    text = json.dumps(document(records), separators=(",", ":"), ensure_ascii=False)
    return gzip_bytes(text.encode("utf-8"))


def document(records: dict[str, SentObject]) -> dict[str, Any]:
    """Return the state as a JSON document; each set of headers is written once."""
    metas: dict[Meta, int] = {}
    rows = {}
    for key in sorted(records):
        record = records[key]
        number = metas.setdefault(record.meta, len(metas))
        # Most tags are the MD5 itself (single-part uploads): write those as "".
        rows[key] = [record.md5, "" if record.tag == record.md5 else record.tag, number]
    return {"format": _FORMAT, "meta": [dict(meta) for meta in metas], "objects": rows}


def decode(data: bytes) -> dict[str, SentObject]:
    """Return the state in `data`; an empty state when it is damaged or of another format
    (then every object is compared by its bytes alone and sent again where headers may differ).
    """
    try:
        return records_of(json.loads(gzip.decompress(data).decode("utf-8")))
    except (OSError, EOFError, ValueError):
        return {}


def records_of(found: Any) -> dict[str, SentObject]:
    """Return the records of a JSON document `document` made (empty when it is not one)."""
    try:
        if found.get("format") != _FORMAT:
            return {}
        metas = [tuple(sorted((str(k), str(v)) for k, v in m.items())) for m in found["meta"]]
        return {
            str(key): SentObject(str(md5), str(tag) or str(md5), metas[number])
            for key, (md5, tag, number) in found["objects"].items()
        }
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return {}


def encode_marker(token: str) -> bytes:
    """Return the marker naming the deploy `token`."""
    return json.dumps({"format": _FORMAT, "deploy": token}).encode("ascii")


def decode_marker(data: bytes | None) -> str | None:
    """Return the deploy a marker names (None: no marker, or not one this feedsvc reads)."""
    try:
        found: Any = json.loads(data or b"")
        return str(found["deploy"]) if found.get("format") == _FORMAT else None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
