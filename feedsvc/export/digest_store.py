"""Each article's digests kept beside the export between processes.

A new `feedsvc build` or `deploy` would otherwise decode and digest every article of the
catalog (0.6 s at 10,000 articles) to find the few that changed. The digests of the last
reading are written beside the export after a build (`.OUT_DIR.article-digests.json`, never
deployed) with the build digest they were made under; the next process takes them when its
build digest is the same, and only the rows that differ from the ones they were made of are
read whole and digested again. A missing, damaged or foreign file only costs that pass.
"""

from __future__ import annotations

import json
import logging
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from feedsvc.export.article_digests import Article, Reading, adopt, last_reading
from feedsvc.support.atomic import write_file

log = logging.getLogger(__name__)

FORMAT = 1
_FIELDS = [item.name for item in fields(Article)]
_TIMES = {_FIELDS.index("published"), _FIELDS.index("updated")}


def store_path(out_dir: Path) -> Path:
    """Return where the digests of `out_dir`'s articles are kept (beside it, like its lock)."""
    return out_dir.with_name(f".{out_dir.name}.article-digests.json")


def restore(out_dir: Path, stamp: str) -> bool:
    """Take the kept digests as this process's last reading when they were made under build
    digest `stamp` and the process has none; return whether they were taken."""
    if last_reading()[1]:
        return False
    try:
        document: Any = json.loads(store_path(out_dir).read_bytes())
        if document["format"] != FORMAT or document["fields"] != _FIELDS:
            return False
        if document["build"] != stamp:
            return False
        known = {}
        for signature, values in document["articles"]:
            for index in _TIMES:
                values[index] = datetime.fromisoformat(values[index])
            item = Article(*values)
            known[item.key] = (tuple(signature), item)
        reading: Reading = (str(document["title"]), known)
    except FileNotFoundError:
        return False
    except (OSError, ValueError, TypeError, KeyError, IndexError) as exc:
        log.info("%s cannot be read (%s): every article is digested", store_path(out_dir), exc)
        return False
    return adopt(reading)


def keep(out_dir: Path, stamp: str) -> None:
    """Write this process's last reading beside the export, made under build digest `stamp`."""
    title, known = last_reading()
    rows = []
    for signature, item in known.values():
        values: list[Any] = [getattr(item, name) for name in _FIELDS]
        for index in _TIMES:
            values[index] = values[index].isoformat()
        rows.append([list(signature), values])
    document = {"format": FORMAT, "fields": _FIELDS, "build": stamp, "title": title}
    document["articles"] = rows
    try:
        write_file(store_path(out_dir), json.dumps(document, separators=(",", ":")).encode())
    except (OSError, TypeError, ValueError) as exc:
        log.warning(
            "cannot keep the article digests beside %s (%s): the next build digests every "
            "article again; check that %s is writable",
            out_dir,
            getattr(exc, "strerror", None) or exc,
            out_dir.parent,
        )
