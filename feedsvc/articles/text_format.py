"""Parse the plain-text seed format into Article records (pure: text in, Article out).

The format: an optional YAML front-matter block (see frontmatter.py); line 1 the section; a
blank line; the title; a blank line; usually the title again (dropped when it equals the title);
then paragraphs separated by blank lines.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from text_unidecode import unidecode

from feedsvc.articles.front_matter import FrontMatter, split_front_matter
from feedsvc.errors import ArticleError

MAX_SECTION_CHARS = 100
MAX_TITLE_CHARS = 300
MAX_SLUG_CHARS = 80

# XML 1.0 forbids C0 controls but tab/LF/CR; C1 controls (U+007F-U+009F) are legal XML but
# only ever come from mis-decoded text, so they are refused as well.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
# In a title or section name these change how it reads without being seen: zero-width
# space, word joiner, zero-width no-break space, and the bidi embeddings, overrides and
# isolates ("Trojan Source"). ZWJ/ZWNJ (emoji, Persian) and the LRM/RLM marks stay allowed.
_INVISIBLE = re.compile(r"[\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069]")
_BLANK_LINES = re.compile(r"\n[ \t\f\v\u00a0\u3000]*\n\s*")


@dataclass(frozen=True, slots=True)
class ArticleImage:
    """An article's own image, checked (feedsvc/articles/images.py): what readers are told of it."""

    name: str  # "<digest>.<ext>": the file name it is served under (its bytes decide it)
    media_type: str  # image/jpeg, image/png or image/webp (from the bytes, not the name)
    width: int  # as displayed (EXIF rotation applied)
    height: int
    length: int  # bytes
    alt: str  # the front matter's image_alt; "" when none is given
    source: str  # the file, relative to the articles folder


@dataclass(frozen=True, slots=True)
class Article:
    """One parsed article file; `key` is the file name without '.txt'."""

    key: str
    section: str
    title: str
    paragraphs: tuple[str, ...]
    front: FrontMatter = field(default_factory=FrontMatter)
    image: ArticleImage | None = None  # set by the folder once the image file is checked
    # A digest of what readers see: it changes exactly when the content does.
    content_hash: str = field(init=False, default="")

    def __post_init__(self) -> None:
        # Separators that cannot occur in parsed text (control characters are refused).
        parts = [self.section, self.title, "\x1f".join(self.paragraphs)]
        front = self.front.canonical()
        if front:
            parts.append(json.dumps(front, ensure_ascii=False, sort_keys=True))
        if self.image is not None:  # its bytes (the name is their digest); alt is in `front`
            parts.append("image:" + self.image.name)
        digest = hashlib.sha256("\x1e".join(parts).encode("utf-8")).hexdigest()
        object.__setattr__(self, "content_hash", digest)

    @property
    def summary(self) -> str:
        """Return the summary shown everywhere (see bounded_summary)."""
        return bounded_summary(self.front.summary, self.paragraphs)


_QUOTES = re.compile(r"['\u2018\u2019`\"]")
_SLUG_WORDS = re.compile(r"[a-z0-9]+")


def _ascii(text: str) -> str:
    # Accents come off in C (NFKD, then drop combining marks); only what is still not ASCII
    # afterwards (ß, Æ, 東京, Cyrillic, ...) goes through the slower per-character table.
    decomposed = unicodedata.normalize("NFKD", text)
    out = []
    for char in decomposed:
        if char.isascii():
            out.append(char)
        elif not unicodedata.combining(char):
            out.append(unidecode(char))
    return "".join(out)


@lru_cache(maxsize=4096)
def slug_for(text: str, *, fallback: str = "article") -> str:
    """Return a readable ASCII URL slug for a title or section name.

    Non-ASCII letters are transliterated ("Économie" -> "economie", "東京" -> "dong-jing"),
    quotes vanish ("country's" -> "countrys"), and the slug ends at a word boundary.
    """
    ascii_text = text if text.isascii() else _ascii(text)
    slug = ""
    for word in _SLUG_WORDS.findall(_QUOTES.sub("", ascii_text.lower())):
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > MAX_SLUG_CHARS:
            if not slug:
                slug = word[:MAX_SLUG_CHARS]
            break
        slug = candidate
    return slug or fallback


def decode(data: bytes, *, source: str) -> str:
    """Return the text of a UTF-8 file (a BOM is allowed), or raise ArticleError."""
    if b"\x00" in data:
        raise ArticleError(source, "binary", "contains NUL bytes: this is not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(
            source, "not-utf8", f"is not valid UTF-8 (bad byte at offset {exc.start})"
        ) from None


def _one_line(block: str) -> str:
    return " ".join(block.split())


def parse_article(text: str | bytes, *, source: str, key: str | None = None) -> Article:
    """Parse one article; `source` names the file in errors, `key` defaults to its stem."""
    if isinstance(text, bytes):
        text = decode(text, source=source)
    text = text.removeprefix("\ufeff")
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise ArticleError(
            source,
            "control-character",
            f"contains control character U+{ord(bad.group()):04X} on line {line}",
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ArticleError(source, "empty", "is empty")
    front, text = split_front_matter(text, source=source)
    text = text.strip()
    if not text:
        raise ArticleError(source, "no-section", "has front matter but no article after it")
    # Line 1 is the section even when the blank line after it is missing.
    first_line, _, rest = text.partition("\n")
    section = _one_line(first_line)
    blocks = [_one_line(block) for block in _BLANK_LINES.split(rest.strip())]
    blocks = [block for block in blocks if block]
    if len(section) > MAX_SECTION_CHARS:
        raise ArticleError(
            source, "section-too-long", f"the section is over {MAX_SECTION_CHARS} characters"
        )
    if not blocks:
        raise ArticleError(source, "no-title", "has a section but no title")
    title = blocks[0]
    if len(title) > MAX_TITLE_CHARS:
        raise ArticleError(
            source, "title-too-long", f"the title is over {MAX_TITLE_CHARS} characters"
        )
    for name, text_line in (("section", section), ("title", title)):
        hidden = _INVISIBLE.search(text_line)
        if hidden:
            raise ArticleError(
                source,
                "invisible-character",
                f"the {name} contains the invisible character U+{ord(hidden.group()):04X}",
            )
    paragraphs = blocks[1:]
    if paragraphs and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    if not paragraphs:
        raise ArticleError(source, "no-body", "has a title but no paragraphs")
    stem = key if key is not None else source.rsplit("/", 1)[-1].removesuffix(".txt")
    return Article(
        key=stem, section=section, title=title, paragraphs=tuple(paragraphs), front=front
    )


SUMMARY_CHARS = 300  # the bound on a summary made from the first paragraph, ellipsis included
_WORD_END = re.compile(r"\s+\S*$")


def bounded_summary(front: str | None, paragraphs: tuple[str, ...]) -> str:
    """Return the one summary feeds, pages, meta tags and embeds show: the front matter's as it
    is; else the first paragraph, or when that is longer than SUMMARY_CHARS its longest start
    that ends at a word within SUMMARY_CHARS - 1 characters (hard cut when there is no space),
    trailing punctuation off, then "…"."""
    if front:
        return front
    first = paragraphs[0]
    if len(first) <= SUMMARY_CHARS:
        return first
    head = first[: SUMMARY_CHARS - 1]
    if not first[SUMMARY_CHARS - 1].isspace():
        head = _WORD_END.sub("", head) or head  # drop the word cut in two
    return head.rstrip(" \t,;:-\u2013\u2014") + "…"
