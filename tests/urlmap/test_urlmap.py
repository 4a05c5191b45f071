"""The map of the publication: shapes, rules, the export's list, and the dependency answer,
proved exact against full renders of every URL before and after random catalog changes."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from werkzeug.routing import Map, Rule

from feedsvc import urlmap
from feedsvc.catalog import Catalog
from feedsvc.export.fingerprints import affected, fingerprints
from feedsvc.export.listing import site_paths
from feedsvc.web.app import create_app
from feedsvc.web.context import EXPORT_REQUEST
from tests.conftest import SITE_URL, T0, article_text, run_ingest


def test_every_listed_path_matches_its_rule_and_the_app_serves_it(app: Flask) -> None:
    rules = Map([Rule(rule, endpoint=name) for name, rule in urlmap.RULES.items()])
    adapter = rules.bind("news.example.org")
    paths, redirects = site_paths(app.config["FEEDSVC"])
    client = app.test_client()
    for path in paths:
        endpoint, _ = adapter.match(path)
        assert endpoint in urlmap.RULES
        assert client.get(path).status_code == 200, path
    # No renamed article here: what redirects are page numbers whose block is on a front page.
    assert redirects
    for old, new in redirects:
        assert adapter.match(old)[0].endswith("_page"), old
        assert new in paths
        response = client.get(old)
        assert (response.status_code, response.location) == (301, SITE_URL + new), old


@pytest.mark.parametrize(
    ("count", "size", "pages", "blocks"), [(0, 5, 1, 0), (5, 5, 1, 0), (6, 5, 2, 2), (11, 5, 3, 3)]
)
def test_paging_arithmetic(count: int, size: int, pages: int, blocks: int) -> None:
    assert urlmap.pages(count, size) == pages
    assert urlmap.archive_blocks(count, size) == blocks


@pytest.mark.parametrize(
    ("slots", "size", "blocks", "front"),
    [(0, 4, 0, 1), (4, 4, 1, 1), (5, 4, 2, 1), (6, 4, 2, 2), (8, 4, 2, 2), (9, 4, 3, 2)],
)
def test_list_pages_are_fixed_blocks_the_newest_on_the_front_page(
    slots: int, size: int, blocks: int, front: int
) -> None:
    assert urlmap.list_blocks(slots, size) == blocks
    # The newest block, and the one before it while the newest is less than half full.
    assert urlmap.front_block(slots, size) == front
    counts = urlmap.ScopeCounts("science", slots, slots)
    assert list(urlmap.list_paths(counts, size)) == [
        "/sections/science/",
        *(f"/sections/science/page/{n}/" for n in range(1, front)),
    ]
    # Page 1 answers even before there is a block: it always did (301 to the front page).
    assert list(urlmap.list_redirects(counts, size)) == [
        (f"/sections/science/page/{n}/", "/sections/science/")
        for n in range(front, max(blocks, 1) + 1)
    ]


def test_the_front_page_never_moves_back() -> None:
    for size in (1, 2, 3, 5, 20):
        fronts = [urlmap.front_block(slots, size) for slots in range(200)]
        assert fronts == sorted(fronts)


def test_shapes() -> None:
    assert urlmap.feed(None, "atom.xml", 3) == "/feeds/archive/3/atom.xml"
    assert urlmap.feed("science", "feed.json") == "/sections/science/feed.json"
    assert urlmap.listing("science", 2) == "/sections/science/page/2/"
    assert urlmap.listing(None, 1) == "/page/1/"  # block 1, the oldest: never the front page
    assert urlmap.listing(None) == "/"
    assert urlmap.shape_of("/sections/science/archive/4/rss.xml") == (
        "/sections/:section/archive/:block/rss.xml"
    )
    assert urlmap.article_slug("/articles/a-b/") == "a-b"
    assert urlmap.article_slug("/articles/a-b/embed/") is None


# -- the dependency answer -------------------------------------------------------------------

SECTIONS = ("World News", "Science", "science", "Économie")
TAGS = ("Climate", "climate", "Élections", "Space")
AUTHORS = ("Ana Lima", "Bo Chen", "ana lima")


def _render(app: Flask, paths: set[str]) -> dict[str, bytes]:
    """Return every path's bytes as the export would write them (a 301 as its target)."""
    client = app.test_client()
    client.environ_base[EXPORT_REQUEST] = "1"  # what the export asks is answered as for it
    found = {}
    for path in sorted(paths):
        response = client.get(path)
        if response.status_code == 200:
            found[path] = response.data
        elif response.status_code == 301 and urlmap.path_kind(path) == "card":
            pass  # an old slug's card redirects whatever its version: no map can list those
        elif response.status_code == 301 and not path.endswith("/"):
            # The export writes the current document at an old document path (frozen.moved).
            found[path] = client.get(response.headers["Location"].removeprefix(SITE_URL)).data
        elif response.status_code == 301:
            found[path] = response.headers["Location"].encode()
    return found


class Newsroom:
    """Random changes to a seeds folder, each a thing a newsroom does."""

    def __init__(self, folder: Path, rng: random.Random) -> None:
        self.folder = folder
        self.rng = rng
        self.serial = 0
        self.gone: dict[str, str] = {}
        self.front: dict[str, tuple[list[str], str | None]] = {}  # tags, author by key

    def _pick_front(self) -> tuple[list[str], str | None]:
        tags = self.rng.sample(TAGS, self.rng.choice((0, 1, 2)))
        return tags, self.rng.choice((None, *AUTHORS))

    def _write(self, key: str, section: str, title: str, paragraphs: list[str]) -> None:
        tags, author = self.front.setdefault(key, self._pick_front())
        lines = [f"tags: [{', '.join(tags)}]"] + ([f"author: {author}"] if author else [])
        front = "---\n" + "\n".join(lines) + "\n---\n"
        (self.folder / f"{key}.txt").write_text(
            front + article_text(section, title, paragraphs), encoding="utf-8"
        )

    def _parts(self, key: str) -> tuple[str, str, list[str]]:
        text = (self.folder / f"{key}.txt").read_text(encoding="utf-8")
        blocks = text.split("\n---\n", 1)[1].split("\n\n")
        return blocks[0], blocks[1], blocks[3:]

    def step(self) -> str:
        keys = sorted(p.stem for p in self.folder.glob("*.txt"))
        ops = ["add", "add"] + (
            ["edit", "summary", "retitle", "move", "remove", "rename", "retag", "reauthor", "image"]
            if keys
            else []
        )
        ops += ["restore"] if self.gone else []
        op = self.rng.choice(ops)
        if op == "add":
            self.serial += 1
            key = f"{self.serial:03d}_new"
            self._write(
                key,
                self.rng.choice(SECTIONS),
                f"Story {self.serial}",
                [f"First {self.serial}.", "More."],
            )
            return op
        if op == "restore":
            key = self.rng.choice(sorted(self.gone))
            (self.folder / f"{key}.txt").write_text(self.gone.pop(key), encoding="utf-8")
            return op
        key = self.rng.choice(keys)
        section, title, paragraphs = self._parts(key)
        if op == "edit":
            paragraphs[-1] += f" Edited {self.rng.random():.6f}."
        elif op == "summary":
            paragraphs[0] += " New lede."
        elif op == "retitle":
            title += " (updated)"
        elif op == "move":
            section = self.rng.choice([s for s in SECTIONS if s != section])
        elif op == "remove":
            self.gone[key] = (self.folder / f"{key}.txt").read_text(encoding="utf-8")
            (self.folder / f"{key}.txt").unlink()
            return op
        elif op == "rename":
            (self.folder / f"{key}.txt").rename(self.folder / f"{key}_r.txt")
            self.front[f"{key}_r"] = self.front.pop(key)
            return op
        elif op == "image":  # a picture beside it: new, replaced or taken away
            picture = self.folder / f"{key}.png"
            if picture.exists() and self.rng.random() < 0.4:
                picture.unlink()
            else:  # few colours and sizes: articles sometimes share one image
                size, red = (self.rng.choice((40, 60)), 30), self.rng.randrange(3) * 100
                Image.new("RGB", size, (red, 0, 0)).save(picture)
            return op
        elif op == "retag":
            self.front[key] = (self._pick_front()[0], self.front[key][1])
        elif op == "reauthor":
            self.front[key] = (self.front[key][0], self._pick_front()[1])
        self._write(key, section, title, paragraphs)
        return op


def newsroom_app(
    tmp_path: Path, database: Path, catalog: Catalog, rng: random.Random, *, articles: int
) -> tuple[Newsroom, Flask]:
    """Return a folder of random articles, ingested at T0, and an app over it with small
    feeds and pages (so that paging and archive blocks are exercised)."""
    folder = tmp_path / "news"
    folder.mkdir()
    newsroom = Newsroom(folder, rng)
    for _ in range(articles):
        newsroom.step()
    run_ingest(catalog, folder, now=T0)
    app = create_app(
        {
            "SEEDS_DIR": folder,
            "DATABASE": database,
            "SITE_URL": SITE_URL,
            "FEED_SIZE": 3,
            "PAGE_SIZE": 2,
            "CARD_DIR": tmp_path / "cards",
            "TOMBSTONE_DAYS": 2,
        }
    )
    return newsroom, app


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_the_dependency_answer_is_exactly_the_urls_whose_bytes_differ(
    tmp_path: Path, database: Path, catalog: Catalog, seed: int
) -> None:
    rng = random.Random(seed)
    newsroom, app = newsroom_app(tmp_path, database, catalog, rng, articles=7)
    folder, moment = newsroom.folder, T0
    settings = app.config["FEEDSVC"]
    before = fingerprints(catalog, settings)
    rendered = _render(app, set(before))
    assert set(rendered) == set(before)  # the map lists exactly what the app serves
    for number in range(30):
        ops = [newsroom.step() for _ in range(rng.choice((1, 1, 2)))]
        moment += timedelta(days=rng.choice((0, 0, 1, 3)), seconds=rng.randrange(1, 90))
        run_ingest(catalog, folder, now=moment)
        articles: list[tuple[str, str]] = []
        after = fingerprints(catalog, settings, articles=articles)
        # The builder lists the paths from the articles the fingerprints read: the same list.
        assert site_paths(settings, catalog, articles) == site_paths(settings), (number, ops)
        now_rendered = _render(app, set(before) | set(after))
        assert set(now_rendered) == set(after), (number, ops)
        differ = {
            path
            for path in set(rendered) | set(now_rendered)
            if rendered.get(path) != now_rendered.get(path)
        }
        named = affected(before, after)
        assert named == differ, (number, ops, sorted(named - differ), sorted(differ - named))
        before, rendered = after, now_rendered
