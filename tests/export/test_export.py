"""Static export: the served app, frozen — byte-identical files, atomic and incremental
rewrites, failures that leave the previous export alone, and real nginx serving the result."""

from __future__ import annotations

import fcntl
import gzip
import logging
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from flask import Flask

from feedsvc.catalog import Catalog, open_catalog
from feedsvc.cli import cli
from feedsvc.export.builder import BuildError, build, file_name
from feedsvc.export.names import check_type as _check_type
from feedsvc.web.app import create_app
from tests.conftest import (
    SITE_URL,
    T0,
    feedsvc_command,
    free_port,
    run_ingest,
    start_nginx,
    write_article,
)
from tests.corpus import write_corpus


@pytest.fixture
def corpus_app(tmp_path: Path) -> Iterator[tuple[Flask, Path, Catalog]]:
    seeds = tmp_path / "corpus"
    write_corpus(seeds, 45)
    database = tmp_path / "export.sqlite3"
    catalog = open_catalog(database, create=True)
    run_ingest(catalog, seeds)
    app = create_app(
        {
            "SEEDS_DIR": seeds,
            "DATABASE": database,
            "SITE_URL": SITE_URL,
            "FEED_SIZE": 10,
            "PAGE_SIZE": 10,
        }
    )
    yield app, seeds, catalog
    catalog.close()


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Return every file under root with its inode and mtime."""
    found = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath, name)
            status = path.stat()
            found[str(path.relative_to(root))] = (status.st_ino, status.st_mtime_ns)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_every_file_is_the_body_the_server_sends(
    corpus_app: tuple[Flask, Path, Catalog], tmp_path: Path, jobs: int
) -> None:
    app, _seeds, _catalog = corpus_app
    out = tmp_path / "site"
    report = build(app, out, jobs=jobs)
    client = app.test_client()
    assert len(report.files) > 45 * 5
    for item in report.files:
        with client.get(item.path) as response:
            assert (out / item.name).read_bytes() == response.get_data(), item.path
    kinds = {Path(item.name).suffix for item in report.files}
    assert kinds >= {".html", ".xml", ".json", ".opml", ".txt", ".css", ".svg", ".png"}
    names = {item.name for item in report.files}
    for expected in (
        "index.html",
        "page/2/index.html",
        "feeds/atom.xml",
        "feeds/archive/1/rss.xml",
        "sections/science/feed.json",
        "feeds.opml",
        "sitemap.xml",
        "robots.txt",
        "feeds/index.html",
        "subscribe/index.html",
        "sections/science/subscribe/index.html",
    ):
        assert expected in names
    assert any(n.startswith("articles/") and n.endswith("/embed/index.html") for n in names)
    assert any(n.endswith("/oembed.json") for n in names)
    assert any(n.endswith(".png") and "/card." in n for n in names)
    for deploy in ("_headers", "_redirects", "_nginx.conf"):
        assert (out / deploy).is_file()


def test_rebuild_rewrites_nothing_and_removals_remove(
    corpus_app: tuple[Flask, Path, Catalog], tmp_path: Path
) -> None:
    app, seeds, catalog = corpus_app
    out = tmp_path / "site"
    build(app, out, gzip=True)
    before = tree(out)
    report = build(app, out, gzip=True)
    assert report.written == 0
    assert report.removed == 0
    assert tree(out) == before  # same inodes, same mtimes: nothing rewritten
    slug = next(r.slug for r in catalog.latest(100) if r.key == "00007_story")
    (seeds / "00007_story.txt").unlink()
    run_ingest(catalog, seeds, now=T0.replace(hour=15))
    report = build(app, out, gzip=True)
    assert not (out / "articles" / slug).exists()
    assert report.removed >= 6  # page, embed, two oEmbed documents, card, .gz siblings
    assert 0 < report.written < report.unchanged


def test_renamed_article_leaves_a_redirect_page(
    corpus_app: tuple[Flask, Path, Catalog], tmp_path: Path
) -> None:
    app, seeds, catalog = corpus_app
    old = next(r.slug for r in catalog.latest(100) if r.key == "00003_story")
    write_article(seeds, "00003_story", "World News", "A brand new headline", "Text.")
    run_ingest(catalog, seeds, now=T0.replace(hour=16))
    out = tmp_path / "site"
    report = build(app, out)
    assert (f"/articles/{old}/", "/articles/a-brand-new-headline/") in report.redirects
    page = (out / "articles" / old / "index.html").read_text(encoding="utf-8")
    assert f'content="0; url={SITE_URL}/articles/a-brand-new-headline/"' in page
    assert (
        f"/articles/{old}/ {SITE_URL}/articles/a-brand-new-headline/ 301"
        in (out / "_redirects").read_text()
    )


@pytest.mark.slow
def test_a_failing_url_aborts_and_leaves_the_previous_export(
    corpus_app: tuple[Flask, Path, Catalog], tmp_path: Path
) -> None:
    app, _seeds, _catalog = corpus_app
    out = tmp_path / "site"
    build(app, out)
    before = tree(out)
    with pytest.raises(BuildError, match="404"):
        build(app, out, include=["/articles/no-such-article/"])
    with pytest.raises(BuildError, match="404"):  # from a worker process too
        build(app, out, include=["/articles/no-such-article/"], jobs=2)
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir() if ".build-" in p.name] == []  # no leftovers
    with pytest.raises(BuildError, match=r"maps to the file feeds/atom\.xml"):
        build(app, out, include=["/feeds/atom.xml"])
    with pytest.raises(BuildError, match="query strings"):
        build(app, out, include=["/oembed?url=x"])
    with pytest.raises(BuildError, match="outside the export folder"):
        build(app, out, include=["/static/../../../etc/passwd"])
    assert tree(out) == before


def test_media_type_must_match_the_file_name() -> None:
    _check_type("/feeds/atom.xml", "feeds/atom.xml", "application/atom+xml")
    with pytest.raises(BuildError, match="misstate"):
        _check_type("/x.json", "x.json", "text/html")
    with pytest.raises(BuildError, match="misstate"):
        _check_type("/x", "x", "text/plain")
    assert file_name("/a/b/") == "a/b/index.html"
    assert file_name("/feeds.opml") == "feeds.opml"


@pytest.mark.slow
def test_cli_build_prints_a_summary(runner: CliRunner, seeds: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    args = [
        "--seeds-dir",
        str(seeds),
        "--database",
        str(tmp_path / "db.sqlite3"),
        "--site-url",
        SITE_URL,
        "build",
        str(out),
        "--gzip",
        "--brotli",
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "files written, 0 unchanged, 0 removed" in result.output
    assert (out / "feeds" / "atom.xml.br").is_file()
    assert (out / "feeds" / "atom.xml.gz").is_file()
    again = runner.invoke(cli, args)
    assert " 0 files written" in again.output
    failing = runner.invoke(cli, [*args, "--include", "/missing/"])
    assert failing.exit_code == 2
    assert "/missing/: answered 404 NOT FOUND instead of 200 OK" in failing.stderr


def _get(url: str, encoding: str = "") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": encoding} if encoding else {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@pytest.mark.external
@pytest.mark.slow
@pytest.mark.e2e
def test_real_nginx_serves_the_export(
    corpus_app: tuple[Flask, Path, Catalog], tmp_path: Path
) -> None:
    app, seeds, catalog = corpus_app
    old = next(r.slug for r in catalog.latest(100) if r.key == "00003_story")
    write_article(seeds, "00003_story", "World News", "Moved headline", "Text.")
    run_ingest(catalog, seeds, now=T0.replace(hour=16))
    out = tmp_path / "site"
    report = build(app, out, gzip=True)
    port = free_port()
    conf = (out / "_nginx.conf").read_text().replace("listen 80;", f"listen 127.0.0.1:{port};")
    process = start_nginx(tmp_path, conf, port)
    try:
        base = f"http://127.0.0.1:{port}"
        for item in report.files:
            status, headers, body = _get(base + item.path)
            assert status == 200, item.path
            assert body == (out / item.name).read_bytes()
            assert headers["content-type"].split(";")[0] == item.media_type, item.path
            assert headers.get("cache-control") == item.cache_control, item.path
        for path in (
            "/feeds/atom.xml",
            "/feeds/rss.xml",
            "/sections/science/atom.xml",
            "/feeds/archive/1/rss.xml",
        ):
            status, headers, body = _get(base + path)
            assert headers["content-type"] in (
                "application/atom+xml; charset=utf-8",
                "application/rss+xml; charset=utf-8",
            )
            assert headers["access-control-allow-origin"] == "*"
            parsed = feedparser.parse(body)
            assert not parsed.bozo
            assert parsed.entries
        assert _get(base + "/feeds/feed.json")[1]["content-type"].startswith(
            "application/feed+json"
        )
        status, headers, body = _get(base + "/feeds/atom.xml", "gzip")
        assert headers.get("content-encoding") == "gzip"
        assert gzip.decompress(body) == (out / "feeds" / "atom.xml").read_bytes()
        status, headers, _ = _get(base + f"/articles/{old}/")
        assert (status, headers["location"]) == (301, f"{SITE_URL}/articles/moved-headline/")
        assert _get(base + "/_headers")[0] == 404
        page_headers = _get(base + "/")[1]
        assert "frame-ancestors 'none'" in page_headers["content-security-policy"]
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_cli_build_does_not_log_every_url(seeds: Path, tmp_path: Path) -> None:
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "feedsvc",
            "--seeds-dir",
            str(seeds),
            "--database",
            str(tmp_path / "db.sqlite3"),
            "build",
            str(tmp_path / "out"),
            "--jobs",
            "1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert '"GET /' not in result.stdout + result.stderr
    assert "exported" in result.stdout.splitlines()[-1]


def _build_command(seeds: Path, database: Path, out: Path, jobs: int) -> list[str]:
    return feedsvc_command(seeds, database, "build", str(out), "--jobs", str(jobs))


def _leftovers(out: Path) -> list[Path]:
    """Return the temporary trees of builds beside `out`."""
    prefixes = (f".{out.name}.build-", f".{out.name}.old-")
    return sorted(p for p in out.parent.iterdir() if p.name.startswith(prefixes))


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended; nobody reaped it


@pytest.mark.slow
@pytest.mark.e2e
def test_the_next_build_removes_what_a_killed_one_left(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    write_corpus(seeds, 500)
    out = tmp_path / "public"
    # Two workers, as `--jobs` defaults to on two cores: they must not outlive a killed build.
    command = _build_command(seeds, tmp_path / "db.sqlite3", out, jobs=2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while next(tmp_path.glob(".public.build-*/articles/*/index.html"), None) is None:
            assert process.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline, "no temporary tree appeared within 60 s"
            time.sleep(0.01)
        children = [
            int(pid)
            for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        ]
        process.kill()
    finally:
        process.kill()
        process.wait(timeout=60)
    assert len(children) >= 2  # the workers (and multiprocessing's resource tracker)
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [pid for pid in children if _running(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)  # leave no process behind, even when failing
    assert not survivors, "workers outlived the killed build"
    left = _leftovers(out)
    assert [p.name.startswith(".public.build-") for p in left] == [True]
    files = [p for p in left[0].rglob("*") if p.is_file()]
    assert files
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, check=True
    )
    assert _leftovers(out) == []
    assert f"removed {left[0]}, left by an interrupted build: {len(files)} files" in result.stderr
    exported = re.search(r"exported (\d+) URLs and (\d+) redirects", result.stdout)
    assert exported is not None, result.stdout
    # + the page numbers that redirect, the deploy files and the manifest
    files = sum(len(names) for _, _, names in os.walk(out))
    assert files == int(exported[1]) + int(exported[2]) + 4
    assert len(list(out.glob("articles/*/index.html"))) == 500


def test_a_second_build_into_the_same_folder_waits_then_says_why(
    corpus_app: tuple[Flask, Path, Catalog], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app, _seeds, _catalog = corpus_app
    out = tmp_path / "site"
    caplog.set_level(logging.INFO, logger="feedsvc.export")
    held = os.open(tmp_path / ".site.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)  # what a running build holds
        os.write(held, b"4242\n")
        with pytest.raises(BuildError, match=r"another build into it \(process 4242\) is still"):
            build(app, out, wait=0.1)
        assert "waiting up to 0.1 s for the build into" in caplog.text
        assert not out.exists()
        assert _leftovers(out) == []
    finally:
        os.close(held)
    assert build(app, out, wait=0).written > 0


def test_a_build_restores_an_export_a_killed_swap_left_aside(
    corpus_app: tuple[Flask, Path, Catalog], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app, _seeds, _catalog = corpus_app
    out = tmp_path / "site"
    build(app, out)
    before = tree(out)
    # Killed between the swap's two renames: the export is aside, a whole new tree beside it.
    os.rename(out, tmp_path / ".site.old-4242")
    (tmp_path / ".site.build-x1y2z3" / "feeds").mkdir(parents=True)
    (tmp_path / ".site.build-x1y2z3" / "feeds" / "atom.xml").write_bytes(b"<feed/>")
    report = build(app, out)
    assert tree(out) == before  # put back, then every file linked: nothing rewritten
    assert report.written == 0
    assert _leftovers(out) == []
    assert f"restored {out} from .site.old-4242" in caplog.text
