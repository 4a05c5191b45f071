"""What a target holds, as the last deploy left it: for every key, the MD5 of the bytes sent,
the store's tag for them and the headers they were sent with.

Object storage lists each object's ETag (the MD5 of a single-part upload) but not its
headers; this record, kept at the target as STATE_NAME, says which headers each object has,
so a changed Content-Type or Cache-Control is sent again without one HEAD request per object.
It is written after each stage of a deploy, so a deploy that was interrupted resends little.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from typing import Any

from feedsvc.support.compress import gzip_bytes

STATE_NAME = ".feedsvc-deployed.json.gz"
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
    metas: dict[Meta, int] = {}
    rows = {}
    for key in sorted(records):
        record = records[key]
        number = metas.setdefault(record.meta, len(metas))
        # Most tags are the MD5 itself (single-part uploads): write those as "".
        rows[key] = [record.md5, "" if record.tag == record.md5 else record.tag, number]
    document = {
        "format": _FORMAT,
        "meta": [dict(meta) for meta in metas],
        "objects": rows,
    }
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return gzip_bytes(text.encode("utf-8"))


def decode(data: bytes) -> dict[str, SentObject]:
    """Return the state in `data`; an empty state when it is damaged or of another format
    (then every object is compared by its bytes alone and sent again where headers may differ).
    """
    try:
        document: Any = json.loads(gzip.decompress(data).decode("utf-8"))
        if document.get("format") != _FORMAT:
            return {}
        metas = [tuple(sorted((str(k), str(v)) for k, v in m.items())) for m in document["meta"]]
        return {
            str(key): SentObject(str(md5), str(tag) or str(md5), metas[number])
            for key, (md5, tag, number) in document["objects"].items()
        }
    except (OSError, EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return {}
