"""Which image an article has, and the part of its signature that image adds.

The image is the file the front matter names, else the one beside the article (the folder
listing finds it); images.py checks it. An article's signature is its file's, then, when it
has an image, that image's: kind ("side": beside it; "front": named by the front matter),
path in the folder, and stat. Editing, replacing, adding or removing an image therefore
re-reads the article; its content hash (with the image's digest) decides whether readers see
a change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from feedsvc.articles.images import check_image
from feedsvc.articles.problems import Rejected
from feedsvc.articles.text_format import Article
from feedsvc.errors import ArticleError

# Between the parts of a signature (no file name or front matter holds it).
SEP = "\x1f"


@dataclass(frozen=True, slots=True)
class Read:
    """A file that was read: its article (with its image when that passed the checks), the
    signature part of the image as it was found, and why the image was refused."""

    article: Article
    image_sig: str = ""
    problem: Rejected | None = None

    @property
    def key(self) -> str:
        """Return the article's key."""
        return self.article.key


def stat_text(target: os.DirEntry[str] | Path) -> tuple[str, int]:
    """Return an image file's stat as signature text (following links), and its mtime."""
    try:
        status = target.stat()
    except FileNotFoundError:
        return "missing", 0
    except OSError:
        return "unreadable", 0
    text = f"{status.st_size}:{status.st_mtime_ns}:{status.st_ino}:{status.st_mode:o}"
    return text, status.st_mtime_ns


def image_part(kind: str, name: str, stat: str) -> str:
    """Return the part of an article's signature that its image adds."""
    return f"{SEP}{kind}{SEP}{name}{SEP}{stat}"


def split_sig(sig: str) -> tuple[str, str | None, str | None]:
    """Return an article's signature as (its file's, image kind, image path) (None: none)."""
    parts = sig.split(SEP)
    if len(parts) < 4:
        return parts[0], None, None
    return parts[0], parts[1], SEP.join(parts[2:-1])


def sidecar_of(sig: str) -> str | None:
    """Return the name of the image beside the article, as its listed signature says."""
    _base, kind, name = split_sig(sig)
    return name if kind == "side" else None


def current_sig(listed: str, stored: str | None, seeds_dir: Path) -> str:
    """Return an article's signature as it is now: as listed, or, when the front matter
    named its image at the last reading, with that image's stat instead."""
    if stored is None or f"{SEP}front{SEP}" not in stored:
        return listed
    _base, _kind, name = split_sig(stored)
    assert name is not None
    return split_sig(listed)[0] + image_part("front", name, stat_text(seeds_dir / name)[0])


def with_image(article: Article, seeds_dir: Path, sidecar: str | None, store: Path | None) -> Read:
    """Return the article with its image checked (and kept in `store`): the front matter's,
    else the file `sidecar` beside it; a refused image comes back as the problem."""
    if article.front.image is not None:
        kind, name = "front", article.front.image
    elif sidecar is not None:
        kind, name = "side", sidecar
    else:
        return Read(article)
    path = seeds_dir / name
    part = image_part(kind, name, stat_text(path)[0])
    try:
        image = check_image(path, seeds_dir, alt=article.front.image_alt or "", store=store)
    except ArticleError as exc:
        if exc.code == "image-unkept":
            part += "!"  # never what a listing shows: the next scan tries again
        return Read(article, part, Rejected(exc.source, exc.code, exc.reason))
    return Read(replace(article, image=image), part)
