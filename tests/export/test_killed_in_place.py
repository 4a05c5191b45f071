"""An export updated in place and killed at any point: real nginx serving it answers 200 for
every URL the front page and the feeds link to, and the next build completes it to the bytes
of a full build."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import pytest

from feedsvc.catalog import Catalog
from feedsvc.export.builder import build
from feedsvc.export.inplace import JOURNAL
from tests.conftest import SITE_URL, T0, free_port, run_ingest, start_nginx, write_article
from tests.export.test_incremental import contents
from tests.urlmap.test_urlmap import newsroom_app

# The child builds in place and SIGKILLs itself before file operation `stop` of the apply
# (the journal's rename, each file's rename or unlink, the manifest's rename, the journal's
# unlink), given as a fraction of however many this build has, or counted from the end.
CHILD = """
import json, os, signal, sys
from pathlib import Path
from feedsvc.export import inplace
from feedsvc.export.builder import build
from feedsvc.web.app import create_app

config, out, where = json.loads(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
apply = inplace.apply

def killed_apply(out_dir, staging, replace, delete, *rest):
    replace, delete = list(replace), list(delete)
    total = len(replace) + len(delete) + 3
    stop = int(where * total) if where >= 0 else total + int(where)
    done = [0]
    def counted(operation):
        def run(*args, **kwargs):
            if done[0] == stop:
                os.kill(os.getpid(), signal.SIGKILL)
            done[0] += 1
            return operation(*args, **kwargs)
        return run
    os.replace, os.unlink = counted(os.replace), counted(os.unlink)
    apply(out_dir, staging, replace, delete, *rest)

inplace.apply = killed_apply
report = build(create_app(config), out, gzip=True)
sys.exit(3 if not report.full else 4)
"""


class Links(HTMLParser):
    """Collect the URLs a page links to or loads."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in ("href", "src"):
                self.found.append(value)
            if value and name == "srcset":
                self.found += [part.split()[0] for part in value.split(",") if part.strip()]


def _status(url: str) -> tuple[int, bytes]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def _linked(base: str) -> set[str]:
    """Return the site paths the front page and the whole-site feeds link to."""
    links: list[str] = []
    status, page = _status(base + "/")
    assert status == 200
    parser = Links()
    parser.feed(page.decode())
    links += [urljoin(SITE_URL + "/", link) for link in parser.found]
    for feed in ("/feeds/atom.xml", "/feeds/rss.xml"):
        status, body = _status(base + feed)
        assert status == 200, feed
        parsed = feedparser.parse(body)
        assert not parsed.bozo, feed
        links += [link.href for entry in parsed.entries for link in entry.links]
        links += [link.href for link in parsed.feed.get("links", [])]
    status, body = _status(base + "/feeds/feed.json")
    assert status == 200
    document = json.loads(body)
    links += [document["home_page_url"], *(item["url"] for item in document["items"])]
    site = urlsplit(SITE_URL)
    return {
        urlsplit(link).path
        for link in links
        if urlsplit(link).netloc == site.netloc and urlsplit(link).scheme == site.scheme
    }


def _config(folder: Path, database: Path, tmp_path: Path) -> dict[str, object]:
    """The settings the killed build process runs with (as the newsroom app's)."""
    return {
        "SEEDS_DIR": str(folder),
        "DATABASE": str(database),
        "SITE_URL": SITE_URL,
        "FEED_SIZE": 3,
        "PAGE_SIZE": 2,
        "CARD_DIR": str(tmp_path / "cards"),
        "TOMBSTONE_DAYS": 2,
    }


@pytest.mark.external
@pytest.mark.slow
@pytest.mark.e2e
def test_an_in_place_build_killed_anywhere_serves_whole_and_the_next_one_completes(
    tmp_path: Path, database: Path, catalog: Catalog
) -> None:
    rng = random.Random(5)
    newsroom, app = newsroom_app(tmp_path, database, catalog, rng, articles=10)
    config = _config(newsroom.folder, database, tmp_path)
    site = tmp_path / "site"
    assert build(app, site, gzip=True).full
    moment = T0
    for number, fraction in enumerate(rng.random() for _ in range(5)):
        ops = [newsroom.step() for _ in range(rng.choice((1, 2)))]
        moment += timedelta(days=rng.choice((0, 1)), seconds=rng.randrange(1, 90))
        run_ingest(catalog, newsroom.folder, now=moment)
        child = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(config), str(site), str(fraction)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert child.returncode == -signal.SIGKILL, (number, ops, child.stderr)
        port = free_port()
        nginx_dir = tmp_path / f"nginx-{number}"
        nginx_dir.mkdir()
        conf = (site / "_nginx.conf").read_text().replace("listen 80;", f"listen 127.0.0.1:{port};")
        nginx = start_nginx(nginx_dir, conf, port)
        try:
            base = f"http://127.0.0.1:{port}"
            linked = _linked(base)
            assert len(linked) > 5
            answers = {path: _status(base + path)[0] for path in sorted(linked)}
            broken = {path: status for path, status in answers.items() if status != 200}
            assert not broken, (number, fraction, ops)
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
        if number % 2:  # the catalog moves on before the next build finishes the killed one
            newsroom.step()
            moment += timedelta(seconds=rng.randrange(1, 90))
            run_ingest(catalog, newsroom.folder, now=moment)
        completed = build(app, site, gzip=True)
        assert not completed.full
        full_site = tmp_path / f"full-{number}"
        assert build(app, full_site, gzip=True).full
        assert contents(site) == contents(full_site), (number, fraction, ops)
        assert not (site / JOURNAL).exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.build-")]


def test_what_a_killed_build_put_in_place_is_undone_when_the_change_is_gone(
    tmp_path: Path, database: Path, catalog: Catalog
) -> None:
    rng = random.Random(7)
    newsroom, app = newsroom_app(tmp_path, database, catalog, rng, articles=6)
    config = _config(newsroom.folder, database, tmp_path)
    site = tmp_path / "site"
    build(app, site, gzip=True)
    added = write_article(newsroom.folder, "zz_brief", "World News", "A brief item", "Text.")
    run_ingest(catalog, newsroom.folder, now=T0 + timedelta(hours=1))
    # Killed with every file in place but before the manifest says so.
    child = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(config), str(site), "-2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert (site / "articles" / "a-brief-item" / "index.html").is_file()
    added.unlink()
    run_ingest(catalog, newsroom.folder, now=T0 + timedelta(hours=2))
    build(app, site, gzip=True)
    full_site = tmp_path / "full"
    build(app, full_site, gzip=True)
    ours, full = contents(site), contents(full_site)
    assert {k for k in ours.keys() | full.keys() if ours.get(k) != full.get(k)} == set()
