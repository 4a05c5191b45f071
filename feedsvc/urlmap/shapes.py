"""Every URL shape feedsvc serves or exports, its rule and its builder, written once."""

from __future__ import annotations

import re

FEED_FILENAMES = ("atom.xml", "rss.xml", "feed.json")
SITEMAP_PART_SIZE = 10_000  # URLs in one sitemap file: well under the protocol's 50,000
ICON_SIZES = (32, 64, 180, 512)  # the square PNG icons (feedsvc.documents.icons draws them)
# The kinds of scope beside the whole site, and the folder each one's pages and feeds live in.
SCOPE_FOLDERS = {"section": "sections", "tag": "tags", "author": "authors"}

# Flask/Werkzeug rule of every endpoint the web layer serves.
RULES: dict[str, str] = {
    "front": "/",
    "front_page": "/page/<int:number>/",
    "section": "/sections/<slug>/",
    "section_page": "/sections/<slug>/page/<int:number>/",
    "article": "/articles/<slug>/",
    "embed": "/articles/<slug>/embed/",
    "card": "/articles/<slug>/card.<version>.png",
    "oembed_json": "/articles/<slug>/oembed.json",
    "oembed_xml": "/articles/<slug>/oembed.xml",
    "oembed": "/oembed",
    "feeds_page": "/feeds/",
    "site_feed": "/feeds/<filename>",
    "site_archive": "/feeds/archive/<int(min=1):block>/<filename>",
    "section_feed": "/sections/<slug>/<filename>",
    "section_archive": "/sections/<slug>/archive/<int(min=1):block>/<filename>",
    "member": "/<any(tags, authors):folder>/<slug>/",
    "member_page": "/<any(tags, authors):folder>/<slug>/page/<int:number>/",
    "member_feed": "/<any(tags, authors):folder>/<slug>/<filename>",
    "member_archive": "/<any(tags, authors):folder>/<slug>/archive/<int(min=1):block>/<filename>",
    "subscribe": "/subscribe/",
    "section_subscribe": "/sections/<slug>/subscribe/",
    "member_subscribe": "/<any(tags, authors):folder>/<slug>/subscribe/",
    "opml": "/feeds.opml",
    "sitemap": "/sitemap.xml",
    "sitemap_part": "/sitemaps/<int(min=1):number>.xml",
    "robots": "/robots.txt",
    "static": "/static/<path:name>",
    "icon": "/icons/<name>",
    "image": "/images/<name>",
    "favicon": "/favicon.ico",
    "apple_touch_icon": "/apple-touch-icon.png",
    "health": "/healthz",
    # What the deployed site published (ids, dates, slugs): a fresh builder adopts them.
    "record": "/feedsvc-record.json",
}

FEEDS_PAGE, OPML, SITEMAP, ROBOTS, OEMBED, HEALTH = (
    "/feeds/",
    "/feeds.opml",
    "/sitemap.xml",
    "/robots.txt",
    "/oembed",
    "/healthz",
)
FAVICON, APPLE_TOUCH_ICON = RULES["favicon"], RULES["apple_touch_icon"]
RECORD = RULES["record"]


def pages(count: int, size: int) -> int:
    """Return how many pages `count` items fill at `size` a page (at least one)."""
    return max(1, -(-count // size))


def archive_blocks(slots: int, size: int) -> int:
    """Return how many RFC 5005 archive blocks `slots` places make (none while they fit in
    the subscription feed)."""
    return -(-slots // size) if slots > size else 0


def list_blocks(slots: int, size: int) -> int:
    """Return how many fixed blocks of `size` places a scope's list pages are cut into."""
    return -(-slots // size)


def front_block(slots: int, size: int) -> int:
    """Return the oldest block a scope's front page shows (1 while it has at most one block).

    The front page shows the newest block, and the one before it while the newest is less
    than half full: never near-empty, never much longer than a page. It moves only forward as
    places are used (never back on a removal), so a numbered page never returns to the front.
    """
    blocks = list_blocks(slots, size)
    if blocks <= 1:
        return 1
    used = slots - (blocks - 1) * size
    return blocks - 1 if 2 * used < size else blocks


def block_places(block: int, size: int) -> tuple[int, int]:
    """Return the first and last place (1-based, first-ingest order) of archive block `block`."""
    first = (block - 1) * size + 1
    return first, first + size - 1


def sitemap_part_bounds(number: int) -> tuple[int, int]:
    """Return where sitemap part `number` starts and ends in the list of all its URLs."""
    return (number - 1) * SITEMAP_PART_SIZE, number * SITEMAP_PART_SIZE


def sitemap_parts(entries: int) -> int:
    """Return how many sitemap parts `entries` URLs need (0: one plain sitemap)."""
    return -(-entries // SITEMAP_PART_SIZE) if entries > SITEMAP_PART_SIZE else 0


def front(number: int | None = None) -> str:
    """Return the path of the front page, or of its numbered page `number` (1: the oldest)."""
    return "/" if number is None else f"/page/{number}/"


def scope_root(kind: str, slug: str) -> str:
    """Return the folder of a section's, tag's or author's page and feeds."""
    return f"/{SCOPE_FOLDERS[kind]}/{slug}/"


def kind_of(folder: str) -> str:
    """Return the kind of scope whose pages live in `folder` ('tags' -> 'tag')."""
    return next(kind for kind, name in SCOPE_FOLDERS.items() if name == folder)


def section(slug: str, number: int | None = None, *, kind: str = "section") -> str:
    """Return the path of a section's (tag's, author's) page, or of its numbered page."""
    root = scope_root(kind, slug)
    return root if number is None else f"{root}page/{number}/"


def listing(section_slug: str | None, number: int | None = None, *, kind: str = "section") -> str:
    """Return the path of the site's (None) or a section's (tag's, author's) front page, or of
    its numbered page `number` (1: the oldest block)."""
    return front(number) if section_slug is None else section(section_slug, number, kind=kind)


def article(slug: str) -> str:
    """Return the path of an article's permalink page."""
    return f"/articles/{slug}/"


def embed(slug: str) -> str:
    """Return the path of an article's framable embed card."""
    return f"/articles/{slug}/embed/"


def card(slug: str, version: str) -> str:
    """Return the path of one version of an article's preview card."""
    return f"/articles/{slug}/card.{version}.png"


def oembed(slug: str, fmt: str) -> str:
    """Return the path of an article's static oEmbed document ('json' or 'xml')."""
    return f"/articles/{slug}/oembed.{fmt}"


def article_slug(path: str) -> str | None:
    """Return the slug of an article permalink path, or None for any other path."""
    prefix = "/articles/"
    if not path.startswith(prefix):
        return None
    rest = path.removeprefix(prefix)
    slug = rest.removesuffix("/")
    if not slug or "/" in slug or rest not in (slug, slug + "/"):
        return None
    return slug


def feeds_folder(section_slug: str | None, *, kind: str = "section") -> str:
    """Return the folder a scope's subscription feeds live in."""
    return "/feeds/" if section_slug is None else scope_root(kind, section_slug)


def feed(
    section_slug: str | None, filename: str, block: int | None = None, *, kind: str = "section"
) -> str:
    """Return the path of a scope's subscription feed, or of its archive block `block`."""
    folder = feeds_folder(section_slug, kind=kind)
    return f"{folder}archive/{block}/{filename}" if block else folder + filename


def subscribe(page_path: str) -> str:
    """Return the path of the subscribe page of the scope whose first page is `page_path`."""
    return page_path + "subscribe/"


def sitemap_part(number: int) -> str:
    """Return the path of sitemap part `number`."""
    return f"/sitemaps/{number}.xml"


def static(name: str) -> str:
    """Return the path of a bundled asset (plain or fingerprinted name)."""
    return f"/static/{name}"


def icon(name: str) -> str:
    """Return the path of one of the publication's icons (its fingerprinted file name)."""
    return f"/icons/{name}"


def image(name: str) -> str:
    """Return the path of an article's own image (its fingerprinted file name)."""
    return f"/images/{name}"


def scope_shape(kind: str) -> str:
    """Return the :placeholder shape of a section's, tag's or author's folder."""
    return f"/{SCOPE_FOLDERS[kind]}/:{kind}/"


# Path segments that vary, as the :placeholders of `_headers` and the nginx config.
ARTICLE_SHAPE, PAGE_SHAPE, ARCHIVE_SHAPE = "/articles/:slug/", "page/:page/", "/archive/:block/"
PLACEHOLDERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^/articles/[^/]+/"), ARTICLE_SHAPE),
    *(
        (re.compile(f"^/{folder}/[^/]+/"), scope_shape(kind))
        for kind, folder in SCOPE_FOLDERS.items()
    ),
    (re.compile(r"/page/\d+/$"), "/" + PAGE_SHAPE),
    (re.compile(r"/archive/\d+/"), ARCHIVE_SHAPE),
)


PLACEHOLDER = re.compile(r":[a-z]+")


def shape_of(path: str) -> str:
    """Return a path with its varying segments as :placeholders."""
    for pattern, replacement in PLACEHOLDERS:
        path = pattern.sub(replacement, path, count=1)
    return path


def feed_id_name(section_slug: str | None, *, kind: str = "section") -> str:
    """Return the name a scope's feed has inside its id (fixed when ids were first minted)."""
    return "feed" + (f"/{SCOPE_FOLDERS[kind]}/{section_slug}" if section_slug else "")


def redirect(old_slug: str, new_slug: str) -> tuple[str, str]:
    """Return (old path, new path) of a renamed article."""
    return article(old_slug), article(new_slug)


_ROOTS = tuple(scope_shape(kind) for kind in SCOPE_FOLDERS)  # sections, tags, authors
_SUBSCRIBE = frozenset(subscribe(root) for root in ("/", *_ROOTS))
_LISTS = frozenset({"/", "/" + PAGE_SHAPE, *_ROOTS, *(root + PAGE_SHAPE for root in _ROOTS)})
_FEEDS = frozenset(
    folder + name for folder in (feeds_folder(None), *_ROOTS) for name in FEED_FILENAMES
)
_SINGLES = {FEEDS_PAGE: "feeds page", SITEMAP: "sitemap", OPML: "opml", ROBOTS: "robots"}


def path_kind(path: str) -> str:
    """Return what a site path serves: "asset", "image", "card", "article" (its page, embed
    card and oEmbed), "archive", "subscribe", "list", "feed", "sitemap part", "feeds page",
    "sitemap", "opml", "robots", "record" (the deployed record), or "other"."""
    shape = shape_of(path)
    if path == RECORD:
        return "record"
    if path.startswith(static("")):
        return "asset"
    if path.startswith(image("")):
        return "image"
    if shape.startswith(ARTICLE_SHAPE):
        return "card" if path.endswith(".png") else "article"
    if ARCHIVE_SHAPE in shape:
        return "archive"
    if shape in _SUBSCRIBE:
        return "subscribe"
    if shape in _LISTS:
        return "list"
    if shape in _FEEDS:
        return "feed"
    if path.startswith(sitemap_part(1).rsplit("/", 1)[0] + "/"):
        return "sitemap part"
    return _SINGLES.get(path, "other")
