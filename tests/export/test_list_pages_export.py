"""List pages in a static export: every page number ever published keeps answering on real
nginx and as a plain file, across an incremental build after new and withdrawn articles."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from feedsvc import urlmap
from feedsvc.catalog import Catalog
from feedsvc.export.builder import build, file_name
from feedsvc.web.app import create_app
from tests.conftest import SITE_URL, T0, free_port, run_ingest, start_nginx, write_article
from tests.corpus import write_corpus

SIZE = 4


def _numbers(catalog: Catalog) -> set[str]:
    """Return the page URLs of every scope as newest-first numbering published them, and the
    list URLs the map names now."""
    scopes = [(None, catalog.count()), *((s.slug, s.count) for s in catalog.sections())]
    return {
        urlmap.listing(slug, number)
        for slug, count in scopes
        for number in range(1, urlmap.pages(count, SIZE) + 1)
    }


def _get(url: str) -> tuple[int, str, bytes]:
    """GET without following redirects; return status, Location and body."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.headers.get("Location", ""), response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers.get("Location", ""), exc.read()


@pytest.mark.external
@pytest.mark.slow
@pytest.mark.e2e
def test_every_page_number_answers_on_nginx_and_as_a_file(
    tmp_path: Path, database: Path, catalog: Catalog
) -> None:
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 41)
    run_ingest(catalog, seeds)
    app = create_app(
        {
            "SEEDS_DIR": seeds,
            "DATABASE": database,
            "SITE_URL": SITE_URL,
            "PAGE_SIZE": SIZE,
            "FEED_SIZE": SIZE,
            "ACCESS_LOG": False,
        }
    )
    out = tmp_path / "site"
    first = build(app, out)
    published = _numbers(catalog) | {
        i.path for i in first.files if urlmap.path_kind(i.path) == "list"
    }
    published |= {old for old, _new in first.redirects}
    moment = T0
    for n in range(6):  # past a block boundary, with a withdrawal in an old block
        moment += timedelta(hours=1)
        write_article(seeds, f"1{n:04d}_new", "Science", f"Fresh {n}", "News.")
        if n == 3:
            (seeds / "00006_story.txt").unlink()
        run_ingest(catalog, seeds, now=moment)
    report = build(app, out)
    assert not report.full
    lists = {i.path for i in report.files if urlmap.path_kind(i.path) == "list"}
    redirects = dict(report.redirects)
    assert lists
    # Blocks 10 and 11 were on the front page, and are pages now; 12 is on the front page.
    assert {"/page/10/", "/page/11/"} <= lists
    assert {"/page/10/", "/page/11/"} <= {old for old, _new in first.redirects}
    assert "/page/12/" in redirects
    published |= lists | redirects.keys()
    # A static host without any configuration: a file for every URL, a redirecting page for
    # each number whose block is on the front page.
    for path in published:
        body = (out / file_name(path)).read_text(encoding="utf-8")
        if path in redirects:
            assert f'content="0; url={SITE_URL}{redirects[path]}"' in body, path
        else:
            assert path in lists, path
    port = free_port()
    conf = (out / "_nginx.conf").read_text().replace("listen 80;", f"listen 127.0.0.1:{port};")
    process = start_nginx(tmp_path, conf, port)
    try:
        base = f"http://127.0.0.1:{port}"
        for path in sorted(published):
            status, location, body = _get(base + path)
            served = path
            if status == 301:
                assert location == SITE_URL + redirects[path], path
                served = location.removeprefix(SITE_URL)
                status, _, body = _get(base + served)
            assert (status, body) == (200, (out / file_name(served)).read_bytes()), path
    finally:
        process.terminate()
        process.wait(timeout=10)
