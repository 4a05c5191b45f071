"""A live catalog against the real server process and real file operations: additions, edits,
renames and removals show in every feed and page without a restart or a failed request."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import article_text, start_server, stop_server, write_article

pytestmark = pytest.mark.e2e
ATOM = "{http://www.w3.org/2005/Atom}"
AT = "{http://purl.org/atompub/tombstones/1.0}"
DEADLINE = 15.0  # generous bound for the assertion; the measured delays are printed


def fetch(url: str) -> tuple[int, bytes, Message]:
    request = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(), exc.headers


class Hammer:
    """Request a few URLs in a loop while files change; every answer must be a success."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.failures: list[str] = []
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + 120
        while not self._stop.is_set() and time.monotonic() < deadline and self.count < 20_000:
            for url in self.urls:
                try:
                    status, _, _ = fetch(url)
                except OSError as exc:
                    self.failures.append(f"{url}: {exc}")
                    continue
                self.count += 1
                if status != 200:
                    self.failures.append(f"{url}: {status}")

    def __enter__(self) -> Hammer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


def until(check: object, what: str) -> float:
    """Poll `check()` until true (bounded); return the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < DEADLINE:
        if check():  # type: ignore[operator]
            elapsed = time.monotonic() - start
            print(f"{what}: visible after {elapsed:.2f} s")  # noqa: T201 - a measurement
            return elapsed
        time.sleep(0.05)
    pytest.fail(f"{what}: not visible after {DEADLINE} s")


def everywhere(base: str, needle: bytes, paths: list[str], *, present: bool = True) -> object:
    """Return a check that `needle` is (or is not) in every path, asked several times over so
    that both workers answer."""

    def check() -> bool:
        return all((needle in fetch(base + path)[1]) == present for _ in range(4) for path in paths)

    return check


@pytest.fixture
def server(seeds: Path, tmp_path: Path) -> Iterator[str]:
    process, base = start_server(seeds, tmp_path, workers=2)
    yield base
    assert stop_server(process) == 0


def atom_entry(base: str, title: str) -> etree._Element | None:
    root = etree.fromstring(fetch(base + "/feeds/atom.xml")[1])
    return next((e for e in root.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == title), None)


@pytest.mark.slow
def test_add_edit_rename_remove_live(server: str, seeds: Path) -> None:
    base = server
    feeds = ["/feeds/atom.xml", "/feeds/rss.xml", "/feeds/feed.json", "/", "/sections/science/"]
    with Hammer([base + p for p in feeds]) as hammer:
        # Add.
        write_article(seeds, "050_live", "Science", "Live addition", "Fresh from the folder.")
        until(everywhere(base, b"Live addition", feeds), "addition")
        entry = atom_entry(base, "Live addition")
        assert entry is not None
        entry_id = entry.findtext(f"{ATOM}id")
        published = entry.findtext(f"{ATOM}published")
        updated = entry.findtext(f"{ATOM}updated")
        assert fetch(base + "/articles/live-addition/")[0] == 200

        # Edit the body: same id and published, a new updated.
        write_article(seeds, "050_live", "Science", "Live addition", "Corrected text.")
        until(
            everywhere(base, b"Corrected text.", ["/feeds/atom.xml", "/articles/live-addition/"]),
            "edit",
        )
        entry = atom_entry(base, "Live addition")
        assert entry is not None
        assert entry.findtext(f"{ATOM}id") == entry_id
        assert entry.findtext(f"{ATOM}published") == published
        assert entry.findtext(f"{ATOM}updated") != updated

        # A new title: a new slug; the old one redirects.
        write_article(seeds, "050_live", "Science", "Live retitled", "Corrected text.")
        until(everywhere(base, b"Live retitled", feeds), "new title")
        status, _, headers = fetch_no_redirect(base + "/articles/live-addition/")
        assert status == 301
        assert headers["Location"] == base + "/articles/live-retitled/"

        # Rename the file, content unchanged: the same article.
        before = atom_entry(base, "Live retitled")
        (seeds / "050_live.txt").rename(seeds / "051_renamed.txt")
        time.sleep(1.0)  # give the watcher a chance to (wrongly) drop it
        until(lambda: atom_entry(base, "Live retitled") is not None, "rename")
        after = atom_entry(base, "Live retitled")
        assert before is not None
        assert after is not None
        for field in ("id", "published", "updated"):
            assert after.findtext(f"{ATOM}{field}") == before.findtext(f"{ATOM}{field}")
        assert fetch(base + "/articles/live-retitled/")[0] == 200
        assert fetch_no_redirect(base + "/articles/live-addition/")[0] == 301

        # Remove: 410, a tombstone in Atom, gone from RSS and JSON.
        (seeds / "051_renamed.txt").unlink()
        until(
            everywhere(
                base, b"Live retitled", ["/feeds/rss.xml", "/feeds/feed.json"], present=False
            ),
            "removal",
        )
        assert fetch(base + "/articles/live-retitled/")[0] == 410
        root = etree.fromstring(fetch(base + "/feeds/atom.xml")[1])
        tombstones = [t.get("ref") for t in root.iter(f"{AT}deleted-entry")]
        assert tombstones == [entry_id]
        section = etree.fromstring(fetch(base + "/sections/science/atom.xml")[1])
        assert [t.get("ref") for t in section.iter(f"{AT}deleted-entry")] == [entry_id]
    assert hammer.count > 50
    assert hammer.failures == []


def fetch_no_redirect(url: str) -> tuple[int, bytes, Message]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(), exc.headers


@pytest.mark.slow
def test_bad_file_dropped_in_live_leaves_the_rest(server: str, seeds: Path) -> None:
    (seeds / "060_bad.txt").write_bytes(b"\x00\x01\x02")
    write_article(seeds, "061_good", "Science", "Good neighbour", "Fine.")
    until(everywhere(server, b"Good neighbour", ["/feeds/atom.xml"]), "good file beside a bad one")
    doc = json.loads(fetch(server + "/feeds/feed.json")[1])
    assert len(doc["items"]) == 4
    (seeds / "060_bad.txt").write_text(
        article_text("Science", "Fixed later", ["Now fine."]), encoding="utf-8"
    )
    until(everywhere(server, b"Fixed later", ["/feeds/atom.xml"]), "fixed file")
