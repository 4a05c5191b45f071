"""The deployed record (/feedsvc-record.json): what the site published, served through the one
rendering path, exported and deployed last, read back before an ingest so that a machine
without the catalog keeps every id and date — and refused, with one line, when it is damaged
or another publication's.

The tests named `test_a_fresh_runner_*`, `test_a_build_into_an_existing_export_*` and
`test_a_static_hosts_builder_*` prove ids and dates survive a fresh machine end to end: they
need the ingest to take what the record offers (catalog/dating.py, catalog/writer.py,
keeper.py), the publication's identity included.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from feedsvc.catalog import Catalog
from feedsvc.catalog import safekeeping as keeper
from feedsvc.catalog.deployed import (
    FIELDS,
    FORMAT,
    VERSION,
    check_publication,
    decode,
    encode,
)
from feedsvc.cli import building, cli, serving
from feedsvc.deploy import adopting
from feedsvc.deploy.state import STATE_NAME
from feedsvc.documents.headers import HeaderPolicy
from feedsvc.errors import RecordError
from feedsvc.export.builder import build
from feedsvc.export.manifest import load
from feedsvc.urlmap.publication import STAGES, stage_of
from tests.conftest import SITE_URL, T0, free_port, run_ingest, write_article
from tests.deploy.test_deploy import (  # noqa: F401 - fixtures: a real S3 API over HTTP on loopback
    Proxy,
    Site,
    _aws_env,
    _client,
    bucket,
    proxy,
    s3_server,
)

RECORD = "feedsvc-record.json"
IDENTITY = "tag:news.example.org,2024-03-01"
ATOM = "{http://www.w3.org/2005/Atom}"
LATER = T0 + timedelta(days=40, hours=3)  # the fresh machine's clock


# --- the document ----------------------------------------------------------------------------


def test_the_record_is_deterministic_compact_and_holds_only_live_articles(
    client: FlaskClient, catalog: Catalog, seeds: Path
) -> None:
    body = client.get("/" + RECORD).data
    assert body == client.get("/" + RECORD).data == encode(catalog)
    document = json.loads(body)
    again = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert again.encode("utf-8") == body
    assert document["format"] == FORMAT
    assert document["version"] == VERSION
    assert document["fields"] == list(FIELDS)
    record = decode(body, "test")
    assert record.publication == catalog.identity() == IDENTITY
    live = {r.key: r for r in catalog.latest(100)}
    assert set(record.articles) == set(live)
    for key, adopted in record.articles.items():
        stored = live[key]
        assert adopted.entry_id == stored.entry_id
        assert adopted.published == stored.published.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert adopted.updated == stored.updated.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert adopted.content_hash == stored.content_hash
        assert adopted.slug == stored.slug
        assert adopted.old_slugs == ()
    assert sorted(a.place for a in record.articles.values()) == [1, 2, 3]
    # A new title keeps the old slug as a redirect; a withdrawn article leaves the record.
    write_article(seeds, "001_markets", "Business", "Markets calm down", "Quiet day.")
    (seeds / "002_comet.txt").unlink()
    run_ingest(catalog, seeds, now=T0.replace(hour=12))
    after = decode(client.get("/" + RECORD).data, "test")
    assert set(after.articles) == {"000_5633a81924f3da7a", "001_markets"}
    markets = after.articles["001_markets"]
    assert markets.slug == "markets-calm-down"
    assert markets.old_slugs == ("markets-bonds-rally",)
    assert markets.entry_id == record.articles["001_markets"].entry_id
    assert markets.published == record.articles["001_markets"].published
    assert markets.updated > record.articles["001_markets"].updated


def test_it_is_served_with_the_header_table(client: FlaskClient, app: Flask) -> None:
    response = client.get("/" + RECORD)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    policy = HeaderPolicy.of(app.config["FEEDSVC"])
    assert response.headers["Cache-Control"] == policy.cache_control("record")
    assert response.headers["Cache-Control"] == "public, max-age=60, stale-if-error=86400"
    for name, value in policy.headers("record", "application/json"):
        assert response.headers.getlist(name) == [value], name
    assert "Access-Control-Allow-Origin" not in response.headers  # for builders, not pages
    assert response.headers["ETag"]
    assert (
        client.get("/" + RECORD, headers={"If-None-Match": response.headers["ETag"]}).status_code
        == 304
    )


def test_it_is_exported_and_listed_nowhere(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(app, out)
    assert (out / RECORD).read_bytes() == client.get("/" + RECORD).data
    loaded = load(out)
    assert loaded is not None
    entry = loaded.files[RECORD]
    assert entry.path == "/" + RECORD
    assert entry.content_type == "application/json"
    headers_file = (out / "_headers").read_text()
    assert re.search(
        r"^/feedsvc-record\.json\n  Content-Type: application/json\n", headers_file, re.M
    )
    # Nothing a reader or crawler sees names it: pages, feeds, sitemaps, OPML, /feeds/.
    naming = {
        path.relative_to(out).as_posix()
        for path in out.rglob("*")
        if path.is_file() and b"feedsvc-record" in path.read_bytes()
    }
    assert naming == {RECORD, "_headers", "_nginx.conf", ".feedsvc-manifest.json"}
    for path in ("/", "/feeds/", "/sitemap.xml", "/feeds.opml", "/feeds/atom.xml", "/robots.txt"):
        assert b"feedsvc-record" not in client.get(path).data, path


def test_an_edit_re_exports_it_incrementally(
    app: Flask, client: FlaskClient, catalog: Catalog, seeds: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(app, out)
    before = (out / RECORD).read_bytes()
    path = seeds / "002_comet.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nA correction.", encoding="utf-8")
    run_ingest(catalog, seeds, now=T0.replace(hour=13))
    report = build(app, out)
    assert not report.full
    after = (out / RECORD).read_bytes()
    assert after != before
    assert after == client.get("/" + RECORD).data
    # A file renamed (a new key, the same article) changes it too.
    (seeds / "002_comet.txt").rename(seeds / "003_comet.txt")
    run_ingest(catalog, seeds, now=T0.replace(hour=14))
    build(app, out)
    assert (out / RECORD).read_bytes() == client.get("/" + RECORD).data
    assert "003_comet" in decode((out / RECORD).read_bytes(), "test").articles
    assert build(app, out).rendered == 0


def test_it_is_deployed_in_the_last_stage() -> None:
    assert stage_of("/" + RECORD) == len(STAGES) - 1 == STAGES.index("record")
    for other in ("/robots.txt", "/feeds/atom.xml", "/sitemap.xml", "/favicon.ico"):
        assert stage_of(other) < stage_of("/" + RECORD), other


# --- decoding: everything checked, one line that says where and how to go on ---------------


def _record(**articles: list[Any]) -> dict[str, Any]:
    row = [
        "tag:news.example.org,2024-03-01:a",
        "2024-03-01T09:30:00.000000Z",
        "2024-03-01T09:30:00.000000Z",
        "0" * 64,
        "a-story",
        ["an-old-story"],
        1,
    ]
    return {
        "format": FORMAT,
        "version": VERSION,
        "publication": IDENTITY,
        "fields": list(FIELDS),
        "articles": articles or {"a": row},
    }


def _bytes(document: object) -> bytes:
    return json.dumps(document).encode("utf-8")


def _tampered(change: Callable[[dict[str, Any]], None]) -> bytes:
    document = _record()
    change(document)
    return _bytes(document)


def _row(index: int, value: object) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["articles"]["a"][index] = value

    return change


def test_a_whole_record_decodes() -> None:
    record = decode(_bytes(_record()), "here")
    adopted = record.articles["a"]
    assert record.publication == IDENTITY
    assert adopted.old_slugs == ("an-old-story",)
    assert adopted.place == 1
    # Any time zone is taken, in the catalog's text form.
    other = _tampered(_row(1, "2024-03-01T10:30:00+01:00"))
    assert decode(other, "here").articles["a"].published == "2024-03-01T09:30:00.000000Z"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe", "is not JSON"),
        (b"<!doctype html><title>Home</title>", "is not JSON"),
        (b"[]", "is not a feedsvc deployed record"),
        (_tampered(lambda d: d.update(format="other")), "is not a feedsvc deployed record"),
        (_tampered(lambda d: d.update(version="1")), "has no version number"),
        (_tampered(lambda d: d.update(extra=1)), "beside or instead of its fields"),
        (_tampered(lambda d: d.update(fields=["entry_id"])), "has the fields"),
        (_tampered(lambda d: d.update(publication="")), "its publication id"),
        (_tampered(lambda d: d.update(publication="urn:uuid:nope")), "not a urn:uuid: URI"),
        (_tampered(lambda d: d.update(articles=[])), "has no table of articles"),
        (_tampered(_row(0, 7)), "the id of article 'a' is not a non-empty string"),
        (_tampered(_row(0, "tag:x,2024:a b")), "whitespace or control characters"),
        (_tampered(_row(0, "x" * 3000)), "longer than 2048"),
        (_tampered(_row(1, "2024-03-01T09:30:00")), "has no time zone"),
        (_tampered(_row(1, "yesterday")), "is not a date"),
        (_tampered(_row(2, None)), "the updated date of article 'a' is not a non-empty string"),
        (_tampered(_row(3, "abc")), "the content hash of article 'a'"),
        (_tampered(_row(4, "../../etc")), "the slug of article 'a' '../../etc' is malformed"),
        (_tampered(_row(5, "an-old-story")), "old slugs of article 'a' are not a list"),
        (_tampered(_row(5, [3])), "an old slug of article 'a' is not a non-empty string"),
        (_tampered(_row(6, "1")), "place of article 'a' is not a positive whole number"),
        (_tampered(_row(6, True)), "place of article 'a' is not a positive whole number"),
        (_tampered(_row(6, 0)), "place of article 'a' is not a positive whole number"),
        (
            _tampered(lambda d: d["articles"]["a"].pop()),
            "article 'a' is not a row of 7 fields",
        ),
        (
            _tampered(lambda d: d["articles"].update({"x/../y": d["articles"]["a"]})),
            "is not a file name",
        ),
        (
            _tampered(
                lambda d: d["articles"].update(
                    b=[*d["articles"]["a"][:4], "b-story", [], 2],
                )
            ),
            "articles 'a' and 'b' have the same id",
        ),
        (
            _tampered(
                lambda d: d["articles"].update(
                    b=["tag:news.example.org,2024-03-01:b", *d["articles"]["a"][1:4], "b", [], 1]
                )
            ),
            "articles 'a' and 'b' have the same place",
        ),
        (
            _tampered(
                lambda d: d["articles"].update(
                    b=["tag:x,2024:b", *d["articles"]["a"][1:4], "an-old-story", [], 2]
                )
            ),
            "articles 'a' and 'b' both hold the slug 'an-old-story'",
        ),
    ],
)
def test_a_damaged_record_is_refused_with_one_line(data: bytes, reason: str) -> None:
    with pytest.raises(RecordError) as caught:
        decode(data, "s3://site/feedsvc-record.json")
    message = str(caught.value)
    assert message.startswith("deployed record s3://site/feedsvc-record.json: ")
    assert reason in message
    assert message.endswith(
        "delete it (or pass --no-adopt) to mint new ids and dates for the articles the "
        "catalog lacks"
    )
    assert "\n" not in message


def test_a_newer_version_asks_for_a_newer_feedsvc() -> None:
    with pytest.raises(
        RecordError, match=r"newer feedsvc \(version 2; this one reads 1\): upgrade"
    ):
        decode(_tampered(lambda d: d.update(version=2)), "here")


def test_another_publications_record_is_refused() -> None:
    record = decode(_bytes(_record()), "here")
    check_publication(record, None, "here")  # a fresh machine: nothing to compare
    check_publication(record, IDENTITY, "here")
    with pytest.raises(RecordError) as caught:
        check_publication(record, "tag:other.example.net,2020-01-01", "here")
    assert str(caught.value) == (
        f"deployed record here: belongs to another publication ({IDENTITY}), not to this one "
        "(tag:other.example.net,2020-01-01): check where it was read from, or pass --no-adopt "
        "to go on without it"
    )


# --- the command line: read before ingest, refused with exit 2, nothing adopted -------------


def fresh_machine(site: Site) -> None:
    """Forget everything but the seeds: no catalog, no publication id, no backups, no export
    (a CI runner with a plain folder, no git)."""
    shutil.rmtree(site.database.parent)
    shutil.rmtree(site.out, ignore_errors=True)


def clock(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """Make every ingest the command line runs see `moment` as now."""
    real = keeper.ingest_settled  # not the command line's: that may be a clock set before

    def at_moment(*args: Any, **kwargs: Any) -> Any:
        return real(*args, **{**kwargs, "now": moment})

    for command in (building, serving):  # build and deploy, serve and watch
        monkeypatch.setattr(command, "ingest_settled", at_moment)


def entries(files: dict[str, bytes]) -> dict[str, list[tuple[str, str, str, str]]]:
    """Return (id, published, updated, link) of every entry of every Atom document."""
    found = {}
    for name, body in files.items():
        if name.endswith("atom.xml"):
            root = etree.fromstring(body)
            found[name] = sorted(
                (
                    entry.findtext(f"{ATOM}id") or "",
                    entry.findtext(f"{ATOM}published") or "",
                    entry.findtext(f"{ATOM}updated") or "",
                    entry.findall(f"{ATOM}link")[0].get("href", ""),
                )
                for entry in root.iter(f"{ATOM}entry")
            )
    return found


def folder_files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }


def bucket_files(endpoint: str, name: str, prefix: str = "") -> dict[str, bytes]:
    client = _client(endpoint)
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name, Prefix=prefix):
        for item in page.get("Contents", ()):
            key = item["Key"].removeprefix(prefix)
            if not key.startswith("."):
                found[key] = client.get_object(Bucket=name, Key=item["Key"])["Body"].read()
    return found


@pytest.fixture
def s3(s3_server: str, bucket: str) -> tuple[str, str]:  # noqa: F811 - test_deploy's fixtures
    """Return the endpoint of a real S3 API on loopback and a new bucket there."""
    return s3_server, bucket


@pytest.fixture
def relay(proxy: Proxy, bucket: str) -> tuple[Proxy, str]:  # noqa: F811 - test_deploy's fixtures
    """Return a recording proxy in front of the S3 API and a new bucket there."""
    return proxy, bucket


@pytest.fixture
def small(tmp_path: Path) -> Site:
    """A publication of 14 articles (the site feed has an archive block) built by the CLI."""
    return Site(tmp_path, 14)


def invoke(site: Site, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args), env=site.env)
    assert result.exit_code == code, result.output
    return result.output


@pytest.mark.slow
def test_a_damaged_target_record_stops_the_deploy_before_ingest(
    small: Site, tmp_path: Path
) -> None:
    folder = tmp_path / "www"
    folder.mkdir()
    (folder / RECORD).write_bytes(b'{"format": "feedsvc-record", "version": 1, "article')
    output = invoke(small, "deploy", str(folder), code=2)
    assert output.strip().splitlines() == [
        f"feedsvc: deployed record {folder}/{RECORD}: is not JSON: delete it (or pass "
        "--no-adopt) to mint new ids and dates for the articles the catalog lacks"
    ]
    assert not small.database.exists()  # nothing ingested, nothing adopted
    assert not small.out.exists()
    output = invoke(small, "deploy", str(folder), "--no-adopt")
    assert "deployed " in output
    assert decode((folder / RECORD).read_bytes(), "test").articles  # the deploy replaced it


@pytest.mark.slow
def test_another_publications_record_stops_deploy_and_build(
    small: Site, s3: tuple[str, str]
) -> None:
    endpoint, name = s3
    invoke(small, "build", str(small.out))  # this publication: tag:news.example.org,<today>
    other = _record()
    other["publication"] = "tag:other.example.net,2020-01-01"
    _client(endpoint).put_object(Bucket=name, Key=f"www/{RECORD}", Body=_bytes(other))
    before = small.database.read_bytes()
    output = invoke(small, "deploy", f"s3://{name}/www", "--endpoint-url", endpoint, code=2)
    (line,) = output.strip().splitlines()
    assert line.startswith(
        f"feedsvc: deployed record s3://{name}/www/{RECORD}: belongs to another publication "
        "(tag:other.example.net,2020-01-01), not to this one (tag:news.example.org,"
    )
    assert small.database.read_bytes() == before
    (small.out / RECORD).write_bytes(_bytes(other))
    output = invoke(small, "build", str(small.out), code=2)
    assert "belongs to another publication" in output
    assert len(output.strip().splitlines()) == 1
    # FEEDSVC_PUBLICATION_ID speaks for a machine without a catalog.
    fresh_machine(small)
    small.out.mkdir()
    (small.out / RECORD).write_bytes(_bytes(other))
    small.env["FEEDSVC_PUBLICATION_ID"] = "news.example.org,2024-03-01"
    output = invoke(small, "build", str(small.out), code=2)
    assert f"not to this one ({IDENTITY})" in output
    assert not small.database.exists()


@pytest.mark.slow
def test_a_tampered_field_type_stops_the_deploy(small: Site, s3: tuple[str, str]) -> None:
    endpoint, name = s3
    invoke(small, "deploy", f"s3://{name}", "--endpoint-url", endpoint)
    client = _client(endpoint)
    document = json.loads(client.get_object(Bucket=name, Key=RECORD)["Body"].read())
    key = sorted(document["articles"])[0]
    document["articles"][key][6] = str(document["articles"][key][6])  # a place as text
    client.put_object(Bucket=name, Key=RECORD, Body=_bytes(document))
    fresh_machine(small)
    output = invoke(small, "deploy", f"s3://{name}", "--endpoint-url", endpoint, code=2)
    assert f"the place of article {key!r} is not a positive whole number" in output
    assert not small.database.exists()


@pytest.mark.slow
def test_no_record_yet_is_said_and_fine(small: Site, tmp_path: Path) -> None:
    output = invoke(small, "deploy", str(tmp_path / "www"))
    assert f"no deployed record at {tmp_path / 'www'}: articles the catalog lacks get new ids" in (
        output
    )
    assert (tmp_path / "www" / RECORD).is_file()
    again = invoke(small, "deploy", str(tmp_path / "www"))
    assert f"deployed record {tmp_path / 'www'}/{RECORD}: 14 articles published as" in again
    assert "sent 0 objects" in again


@pytest.mark.slow
def test_the_record_is_the_last_object_sent(small: Site, relay: tuple[Proxy, str]) -> None:
    recorder, name = relay
    invoke(small, "deploy", f"s3://{name}", "--endpoint-url", recorder.url)
    assert recorder.site_puts(name)[-1] == RECORD
    # An edit and a removal: the record follows the feeds, the deletions follow the record.
    path = small.seeds / "00003_story.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nA correction.", encoding="utf-8")
    (small.seeds / "00004_story.txt").unlink()
    recorder.requests.clear()
    invoke(small, "deploy", f"s3://{name}", "--endpoint-url", recorder.url)
    puts = recorder.site_puts(name)
    assert "feeds/atom.xml" in puts
    assert puts[-1] == RECORD
    writes = [
        (m, p.split("?")[0])
        for m, p in recorder.writes()
        if not p.split("?")[0].endswith(STATE_NAME)
    ]
    record_at = writes.index(("PUT", f"/{name}/{RECORD}"))
    deletions = [i for i, (method, _path) in enumerate(writes) if method in ("POST", "DELETE")]
    assert deletions
    assert record_at < min(deletions)


# --- a fresh machine keeps every id and date (needs the ingest side, see the docstring) -----


@pytest.mark.slow
def test_a_fresh_runner_deploying_to_s3_keeps_ids_and_dates(
    small: Site, s3: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, name = s3
    target = f"s3://{name}/news"
    clock(monkeypatch, T0)
    invoke(small, "deploy", target, "--endpoint-url", endpoint)
    before = bucket_files(endpoint, name, "news/")
    assert len(entries(before)) > 1  # feeds and archive blocks
    fresh_machine(small)
    clock(monkeypatch, LATER)
    output = invoke(small, "deploy", target, "--endpoint-url", endpoint)
    assert f"deployed record {target}/{RECORD}: 14 articles published as" in output
    after = bucket_files(endpoint, name, "news/")
    assert entries(after) == entries(before)
    assert after[RECORD] == before[RECORD]


@pytest.mark.slow
def test_a_fresh_runner_deploying_to_a_folder_keeps_ids_and_dates(
    small: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "www"
    clock(monkeypatch, T0)
    invoke(small, "deploy", str(folder))
    before = folder_files(folder)
    # A new article and an edit since: the new one is minted, the rest adopted.
    write_article(small.seeds, "00100_story", "Science", "A later story", "New.")
    fresh_machine(small)
    clock(monkeypatch, LATER)
    invoke(small, "deploy", str(folder))
    after = folder_files(folder)
    record_before = decode(before[RECORD], "before")
    record_after = decode(after[RECORD], "after")
    assert record_after.publication == record_before.publication
    for key, adopted in record_before.articles.items():
        assert record_after.articles[key] == adopted, key
    assert record_after.articles["00100_story"].published.startswith("2024-04-10T")
    old = {e for feed in entries(before).values() for e in feed}
    new = {e for feed in entries(after).values() for e in feed}
    assert old <= new


@pytest.mark.slow
def test_a_build_into_an_existing_export_keeps_ids_and_dates(
    small: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock(monkeypatch, T0)
    invoke(small, "build", str(small.out))
    before = folder_files(small.out)
    shutil.rmtree(small.database.parent)  # the catalog is gone, the export is there
    clock(monkeypatch, LATER)
    output = invoke(small, "build", str(small.out))
    assert f"deployed record {small.out}/{RECORD}: 14 articles" in output
    after = folder_files(small.out)
    assert entries(after) == entries(before)
    assert after[RECORD] == before[RECORD]


@pytest.mark.slow
def test_without_adoption_a_fresh_runner_would_change_the_dates(
    small: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the tests above guard against: --no-adopt on a fresh machine mints anew."""
    clock(monkeypatch, T0)
    invoke(small, "build", str(small.out))
    before = folder_files(small.out)
    shutil.rmtree(small.database.parent)
    clock(monkeypatch, LATER)
    invoke(small, "build", str(small.out), "--no-adopt")
    after = folder_files(small.out)
    assert entries(after) != entries(before)


# --- --adopt-from: the live site, over HTTP ----------------------------------------------


class Host:
    """A loopback web server answering every GET from a table of (status, headers, body)."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.requests: list[dict[str, str]] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                host.requests.append({k.lower(): v for k, v in self.headers.items()})
                status, headers, body = host.answers.get(self.path, (404, {}, b"no"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def host() -> Iterator[Host]:
    running = Host()
    yield running
    running.close()


@pytest.mark.slow
def test_a_static_hosts_builder_adopts_from_the_live_site(
    small: Site, host: Host, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock(monkeypatch, T0)
    invoke(small, "build", str(small.out))
    before = folder_files(small.out)
    host.answers["/feedsvc-record.json"] = (
        200,
        {"Content-Type": "application/json"},
        before[RECORD],
    )
    fresh_machine(small)  # Netlify, Cloudflare Pages: no catalog, no previous export
    clock(monkeypatch, LATER)
    url = f"{host.url}/feedsvc-record.json"
    output = invoke(small, "build", str(small.out), "--adopt-from", url)
    assert f"deployed record {url}: 14 articles published as" in output
    assert host.requests[-1]["cache-control"] == "no-cache"
    after = folder_files(small.out)
    assert entries(after) == entries(before)
    assert after[RECORD] == before[RECORD]


@pytest.mark.slow
def test_adopt_from_a_url_with_no_record_yet(small: Site, host: Host) -> None:
    url = f"{host.url}/feedsvc-record.json"
    output = invoke(small, "build", str(small.out), "--adopt-from", url)
    assert f"no deployed record at {url}: articles the catalog lacks get new ids" in output
    assert (small.out / RECORD).is_file()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((500, {}, b"down"), "answered 500 Internal Server Error instead of 200 OK"),
        ((403, {}, b"no"), "answered 403 Forbidden instead of 200 OK"),
        ((200, {"Content-Type": "text/html"}, b"<!doctype html>"), "is not JSON"),
        ((302, {"Location": "ftp://example.org/r.json"}, b""), "redirects to ftp://example.org/"),
        (
            (302, {"Location": "file:///etc/passwd"}, b""),
            "answered 302 Found - Redirection to url 'file:///etc/passwd' is not allowed",
        ),
        ((200, {}, b"x" * 2048), "is larger than 1024 bytes"),
    ],
)
def test_adopt_from_a_url_that_fails_exits_2_with_one_line(
    small: Site,
    host: Host,
    monkeypatch: pytest.MonkeyPatch,
    answer: tuple[int, dict[str, str], bytes],
    reason: str,
) -> None:
    monkeypatch.setattr(adopting, "MAX_BYTES", 1024)
    host.answers["/r.json"] = answer
    url = f"{host.url}/r.json"
    output = invoke(small, "build", str(small.out), "--adopt-from", url, code=2)
    (line,) = output.strip().splitlines()
    assert line.startswith(f"feedsvc: deployed record {url}: {reason}")
    assert not small.database.exists()


def test_adopt_from_refuses_other_schemes_and_unreachable_hosts(
    small: Site, tmp_path: Path
) -> None:
    output = invoke(small, "build", str(small.out), "--adopt-from", "ftp://example.org/r", code=2)
    assert "is not an http:// or https:// URL" in output
    url = f"http://127.0.0.1:{free_port()}/r.json"  # nothing listens there
    output = invoke(small, "build", str(small.out), "--adopt-from", url, code=2)
    assert f"feedsvc: deployed record {url}: cannot be fetched:" in output
    output = invoke(small, "build", str(small.out), "--adopt-from", url, "--no-adopt", code=2)
    assert "--adopt-from and --no-adopt contradict each other" in output


@pytest.mark.slow
def test_adopt_from_a_path(small: Site, tmp_path: Path) -> None:
    invoke(small, "build", str(small.out))
    copy = tmp_path / "previous"
    shutil.copytree(small.out, copy)
    output = invoke(small, "build", str(small.out), "--adopt-from", str(copy))
    assert f"deployed record {copy / RECORD}: 14 articles" in output
    (copy / RECORD).write_text("{}")
    output = invoke(small, "build", str(small.out), "--adopt-from", str(copy / RECORD), code=2)
    assert "is not a feedsvc deployed record" in output


def test_the_record_names_no_address(app: Flask, catalog: Catalog) -> None:
    assert app.config["FEEDSVC"].site.url == SITE_URL
    assert SITE_URL.encode() not in encode(catalog)  # ids travel with it, not the site's URL


def test_the_identity_a_record_is_checked_against_is_the_one_ingest_would_mint_from(
    tmp_path: Path,
) -> None:
    from feedsvc.catalog.identity import write_file
    from feedsvc.catalog.paths import identity_file
    from feedsvc.config.settings import load_settings

    database = tmp_path / "instance" / "feedsvc.sqlite3"
    write_file(identity_file(database), "tag:old.example.org,2020")  # kept from before
    settings = load_settings(
        {}, {"DATABASE": database, "PUBLICATION_ID": "news.example.org,2024-03-01"}
    )
    # No catalog yet: FEEDSVC_PUBLICATION_ID wins over the kept file, for the check before
    # ingest as for ingest itself (they once disagreed).
    assert adopting.known_identity(settings) == "tag:news.example.org,2024-03-01"
    assert keeper.publication_of(settings, None) == "tag:news.example.org,2024-03-01"
