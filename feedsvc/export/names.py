"""What an export's files are called, and the checks that keep them honest: inside the folder,
one URL per file, and a name that does not misstate the media type."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from feedsvc.errors import FeedsvcError

# What each file name ending may hold; a static host picks the type from the name.
MEDIA_TYPES: dict[str, frozenset[str]] = {
    ".html": frozenset({"text/html"}),
    ".xml": frozenset(
        {"application/atom+xml", "application/rss+xml", "application/xml", "text/xml"}
    ),
    ".json": frozenset({"application/feed+json", "application/json", "application/activity+json"}),
    ".opml": frozenset({"text/x-opml"}),
    ".txt": frozenset({"text/plain"}),
    ".css": frozenset({"text/css"}),
    ".svg": frozenset({"image/svg+xml"}),
    ".png": frozenset({"image/png"}),
    ".jpg": frozenset({"image/jpeg"}),
    ".webp": frozenset({"image/webp"}),
    ".ico": frozenset({"image/x-icon", "image/vnd.microsoft.icon"}),
    "": frozenset({"application/jrd+json", "application/json"}),  # /.well-known/webfinger
}
COMPRESSIBLE = frozenset({".html", ".xml", ".json", ".opml", ".txt", ".css", ".svg"})
DEPLOY_FILES = ("_headers", "_redirects", "_nginx.conf")


class BuildError(FeedsvcError):
    """The export cannot be completed; nothing was changed."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type[BuildError], tuple[str, str]]:
        # Raised in worker processes: it must cross back to the parent whole.
        return (BuildError, (self.path, self.reason))


def file_name(path: str) -> str:
    """Return the file a URL path is written to: '/a/' -> 'a/index.html', '/a.xml' -> 'a.xml'."""
    relative = path.lstrip("/")
    return relative + "index.html" if path.endswith("/") else relative


def check_type(path: str, name: str, media_type: str) -> None:
    """Refuse a file whose name would make a static host send another media type."""
    suffix = Path(name).suffix
    allowed = MEDIA_TYPES.get(suffix)
    if allowed is None or media_type not in allowed:
        raise BuildError(path, f"is {media_type}, which a file named *{suffix} would misstate")


def checked_name(path: str) -> str:
    """Return the file for a URL path, refusing anything that is not a plain path inside."""
    if not path.startswith("/") or "?" in path or "#" in path or "\\" in path:
        raise BuildError(path, "is not a plain site path (no query strings for content)")
    name = file_name(path)
    parts = Path(name).parts
    if not parts or ".." in parts or "." in parts or Path(name).is_absolute() or "\x00" in name:
        raise BuildError(path, "would be written outside the export folder")
    return name


def check_names(
    paths: Sequence[str],
    redirects: Sequence[tuple[str, str]],
    extra: Iterable[str],
    known: Mapping[str, str] | None = None,
) -> set[str]:
    """Check every file name before any request: inside the folder, one URL per file.

    A name that `known` (the previous build's manifest: name -> path) gives the same path was
    checked by that build; only its being one URL's is checked again (most of an archive).
    """
    known = known or {}
    seen: dict[str, str] = {}
    for path in [*paths, *(old for old, _new in redirects), *("/" + n for n in extra)]:
        name = file_name(path)
        if known.get(name) != path:
            name = checked_name(path)
        if name in seen:
            raise BuildError(path, f"maps to the file {name}, as {seen[name]} does")
        seen[name] = path
    return set(seen)
