"""The one table of settings: each FEEDSVC_* variable's field, parser, default as people read
it, and help. Settings (settings.py) are read through it, and the manual's settings page is made
from it at every build (`python -m feedsvc.config.table` prints its tables)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from feedsvc.config import values

PREFIX = "FEEDSVC_"


@dataclass(frozen=True, slots=True)
class Setting:
    """One FEEDSVC_* variable."""

    name: str  # after FEEDSVC_
    target: str  # the Settings field, or "site." + a Site field
    parse: Callable[[str, Any], Any]
    default: str  # as people read it (a Markdown cell)
    help: str  # a Markdown cell
    group: Literal["general", "fediverse"] = "general"


# fmt: off
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "SEEDS_DIR", "seeds_dir", values.path,
        "`./seeds`",
        "the folder of article files (feedsvc never writes there)",
    ),
    Setting(
        "DATABASE", "database", values.path,
        "`./instance/feedsvc.sqlite3`",
        "the SQLite catalog",
    ),
    Setting(
        "SITE_URL", "site.url", values.site_url,
        "`http://127.0.0.1:8000` (for `serve`: `http://HOST:PORT`)",
        "absolute base URL of every link in feeds and pages; never taken from a request's `Host` header",
    ),
    Setting(
        "SITE_TITLE", "site.title", values.text,
        "`feedsvc`",
        "the publication's name",
    ),
    Setting(
        "SITE_DESCRIPTION", "site.description", values.text,
        "`News articles published by feedsvc`",
        "feed subtitle / description",
    ),
    Setting(
        "SITE_AUTHOR", "site.author", values.text,
        "`feedsvc newsroom`",
        "author of every article (Atom `author`, RSS `dc:creator`)",
    ),
    Setting(
        "SITE_LANGUAGE", "site.language", values.text,
        "`en`",
        "language of the site and feeds",
    ),
    Setting(
        "SITE_LOCALE", "site.locale", values.text,
        "`en_US`",
        "Open Graph `og:locale`",
    ),
    Setting(
        "FEED_SIZE", "feed_size", values.whole(1, 10_000),
        "`20`",
        "how many newest articles a subscription feed carries; also the size of an archive block",
    ),
    Setting(
        "PAGE_SIZE", "page_size", values.whole(1, 1_000),
        "`20`",
        "articles per list page: numbered pages are fixed blocks of this many places, oldest first; a front page shows the newest block (and the one before it while the newest is less than half full)",
    ),
    Setting(
        "CARD_DIR", "card_dir", values.path,
        "`cards/` beside the database",
        "where preview cards are kept once drawn",
    ),
    Setting(
        "FEED_MAX_AGE", "feed_max_age", values.whole(0, 31_536_000),
        "`300`",
        "seconds feeds, OPML, sitemaps and robots.txt may be cached (`Cache-Control: max-age`)",
    ),
    Setting(
        "PAGE_MAX_AGE", "page_max_age", values.whole(0, 31_536_000),
        "`60`",
        "seconds HTML pages may be cached",
    ),
    Setting(
        "CACHE_MB", "cache_mb", values.whole(1, 65_536),
        "`16`",
        "memory each worker may spend on rendered responses",
    ),
    Setting(
        "STATE_CHECK_MS", "state_check_ms", values.whole(0, 60_000),
        "`100`",
        "how often (at most) a worker asks SQLite whether the catalog changed; `0`: on every request",
    ),
    Setting(
        "TRUST_PROXY", "trust_proxy", values.flag,
        "`0`",
        "`1` when feedsvc runs behind a reverse proxy: trust its `X-Forwarded-For/-Proto/-Host/-Port/-Prefix` (one hop). Off by default, because anyone can send those headers",
    ),
    Setting(
        "ACCESS_LOG", "access_log", values.flag,
        "`1`",
        "log every request, one line each on standard output (`serve --no-access-log` turns it off)",
    ),
    Setting(
        "MAX_FILE_KB", "max_file_kb", values.whole(1, 1_048_576),
        "`1024`",
        "article files larger than this are rejected (`too-large`)",
    ),
    Setting(
        "FILE_SECONDS", "file_seconds", values.whole(1, 600),
        "`30`",
        "reading one article file may take this long; a file that takes longer is stopped, rejected (`too-slow`) and set aside until it changes",
    ),
    Setting(
        "TOMBSTONE_DAYS", "tombstone_days", values.whole(0, 36_500),
        "`30`",
        "how long Atom feeds carry a removed article's tombstone",
    ),
    Setting(
        "WATCH", "watch", values.flag,
        "`1`",
        "`serve` follows changes to the seeds folder",
    ),
    Setting(
        "RESCAN_SECONDS", "rescan_seconds", values.whole(1, 86_400),
        "`30`",
        "full rescan interval, besides file-system notifications",
    ),
    Setting(
        "WEBSUB_HUB", "websub_hub", values.optional_url,
        "(none)",
        "a WebSub hub to advertise and notify",
    ),
    Setting(
        "SETTLE_MS", "settle_ms", values.whole(0, 60_000),
        "`1000`",
        "a new or changed file is published once it has not changed for this long, so no reader gets half a file",
    ),
    Setting(
        "PUBLICATION_ID", "publication_id", values.tagging_entity,
        "(minted)",
        "the RFC 4151 tagging entity every id is minted from, e.g. `news.example.org,2024-03-01` (see \"How ids … are decided\")",
    ),
    Setting(
        "GIT_DATES", "git_dates", values.flag,
        "`1`",
        "date articles by the git history of their folder when it is in a work tree (`0`: by first sight); see \"How ids … are decided\"",
    ),
    Setting(
        "BACKUPS", "backups", values.whole(0, 1000),
        "`5`",
        "how many catalog backups to keep (`0`: none)",
    ),
    Setting(
        "BACKUP_HOURS", "backup_hours", values.whole(1, 8760),
        "`6`",
        "a scheduled backup is taken when the newest is older than this and the catalog changed since",
    ),
    Setting(
        "HEALTH_MAX_LAG", "health_max_lag", values.whole(1, 86_400),
        "`60`",
        "seconds after which a change not yet published, or a writer silent that long, makes `/healthz` answer 503",
    ),
    Setting(
        "WRITER_STALL_SECONDS", "writer_stall_seconds", values.whole(5, 86_400),
        "`120`",
        "a writer with no sign of progress for this long is killed and restarted",
    ),
    Setting(
        "RUN_DIR", "run_dir", values.path,
        "a private folder per catalog under `$XDG_RUNTIME_DIR` or the temp folder",
        "where the running server keeps the writer's and supervisor's state (away from the catalog's disk on purpose)",
    ),
    Setting(
        "EXPORT_DIR", "export_dir", values.path,
        "`instance/site`",
        "the export `feedsvc deploy` sends and continuous publishing keeps up to date",
    ),
    Setting(
        "DEPLOY", "deploy_target", values.optional_text,
        "(none)",
        "continuous publishing: the writer deploys each change there (`s3://BUCKET[/PREFIX]` or a folder)",
    ),
    Setting(
        "S3_ENDPOINT", "s3_endpoint", values.optional_url,
        "(AWS)",
        "the endpoint of another S3-compatible service (R2, B2, MinIO)",
    ),
    Setting(
        "SITE_ICON", "site_icon", values.icon_file,
        "(drawn)",
        "a PNG the publication's icon is made from, in every size (checked with Pillow at start; a file it cannot read stops the program with a message); by default the icon is drawn from the site title",
    ),
    Setting(
        "FEDIVERSE", "fediverse", values.flag,
        "`0`",
        "turn the actors, the inbox and deliveries on", "fediverse",
    ),
    Setting(
        "FEDIVERSE_NAME", "fediverse_name", values.account_name,
        "from the title",
        "the site's account name (`a-z0-9_`): `@NAME@host`", "fediverse",
    ),
    Setting(
        "FEDIVERSE_HANDLE", "fediverse_handle", values.handle,
        "none",
        "`@you@your.server`: `<meta name=\"fediverse:creator\">` on every article page (Mastodon credits you on link previews)", "fediverse",
    ),
    Setting(
        "FEDIVERSE_AUTHORS", "fediverse_authors", values.author_handles,
        "none",
        "`Jane Doe=@jane@example.social; ...`: the handle for articles whose front-matter `author` is that name (wins over the site's)", "fediverse",
    ),
    Setting(
        "FEDIVERSE_ALLOW_PRIVATE", "fediverse_allow_private", values.flag,
        "`0`",
        "let remote fetches and deliveries reach private and loopback addresses, on any port (tests only)", "fediverse",
    ),
    Setting(
        "FEDIVERSE_TIMEOUT", "fediverse_timeout", values.whole(1, 120),
        "`10`",
        "seconds a remote fetch (a signer's key and its actor, together) or a delivery may take in all: DNS, connect, TLS, headers and body", "fediverse",
    ),
    Setting(
        "FEDIVERSE_CONCURRENCY", "fediverse_concurrency", values.whole(1, 64),
        "`4`",
        "deliveries in flight at once", "fediverse",
    ),
    Setting(
        "FEDIVERSE_RETRY_MS", "fediverse_retry_ms", values.whole(10, 3_600_000),
        "`60000`",
        "first retry of a failed delivery; doubles each time, at most an hour apart", "fediverse",
    ),
    Setting(
        "FEDIVERSE_GIVE_UP_SECONDS", "fediverse_give_up_seconds", values.whole(1, 30 * 86_400),
        "`86400`",
        "a delivery failing this long is dropped; an inbox failing this long is dead and its followers are forgotten", "fediverse",
    ),
)
# fmt: on


def markdown(group: str) -> str:
    """Return the manual's table of one group of settings (Markdown)."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for setting in SETTINGS:
        if setting.group == group:
            lines.append(f"| `{PREFIX}{setting.name}` | {setting.default} | {setting.help} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Print the manual's tables: python -m feedsvc.config.table [general|fediverse]."""
    for group in sys.argv[1:] or ["general", "fediverse"]:
        sys.stdout.write(markdown(group))


if __name__ == "__main__":
    main()
