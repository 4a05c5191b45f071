"""The read-only fediverse documents: WebFinger, NodeInfo, actors, outboxes, objects, page tags,
the static export, and the dependency answer (exact for every fediverse path too)."""

from __future__ import annotations

import json
import random
import re
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedsvc.catalog import Catalog
from feedsvc.export.builder import build
from feedsvc.export.fingerprints import affected, fingerprints
from feedsvc.export.listing import site_paths
from feedsvc.fediverse.keys import key_file
from feedsvc.web.app import create_app
from tests.conftest import SITE_URL, T0, run_ingest
from tests.urlmap.test_urlmap import _render, newsroom_app

HOST = "news.example.org"


def _app(seeds: Path, database: Path, catalog: Catalog, **extra: Any) -> Flask:
    run_ingest(catalog, seeds)
    return create_app(
        {
            "SEEDS_DIR": seeds,
            "DATABASE": database,
            "SITE_URL": SITE_URL,
            "SITE_TITLE": "Test News",
            "FEDIVERSE": True,
            **extra,
        }
    )


@pytest.fixture
def client(seeds: Path, database: Path, catalog: Catalog) -> FlaskClient:
    return _app(seeds, database, catalog).test_client()


def _get(client: FlaskClient, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, path
    value: dict[str, Any] = json.loads(response.data)
    return value


def test_webfinger_finds_the_site_and_each_section(client: FlaskClient) -> None:
    site = _get(client, f"/.well-known/webfinger?resource=acct:test_news@{HOST}")
    assert site["subject"] == f"acct:test_news@{HOST}"
    self_link = next(link for link in site["links"] if link["rel"] == "self")
    assert self_link == {
        "rel": "self",
        "type": "application/activity+json",
        "href": f"{SITE_URL}/fediverse/actor.json",
    }
    section = _get(client, f"/.well-known/webfinger?resource=acct:world_news@{HOST}")
    assert f"{SITE_URL}/sections/world-news/actor.json" in section["aliases"]
    by_url = _get(client, f"/.well-known/webfinger?resource={SITE_URL}/sections/science/")
    assert by_url["subject"] == f"acct:science@{HOST}"
    response = client.get(f"/.well-known/webfinger?resource=acct:test_news@{HOST}")
    assert response.content_type == "application/jrd+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    for unknown in ("acct:nobody@" + HOST, "acct:test_news@other.example", "https://x.example/"):
        assert client.get(f"/.well-known/webfinger?resource={unknown}").status_code == 404


def test_nodeinfo(client: FlaskClient) -> None:
    links = _get(client, "/.well-known/nodeinfo")
    href = links["links"][0]["href"]
    assert links["links"][0]["rel"] == "http://nodeinfo.diaspora.software/ns/schema/2.1"
    info = _get(client, href.removeprefix(SITE_URL))
    assert info["version"] == "2.1"
    assert info["protocols"] == ["activitypub"]
    assert info["usage"] == {"users": {"total": 4}, "localPosts": 3}
    assert info["openRegistrations"] is False


def test_actors_carry_the_public_key_only(client: FlaskClient, database: Path) -> None:
    for path, kind in (
        ("/fediverse/actor.json", "Organization"),
        ("/sections/science/actor.json", "Service"),
    ):
        response = client.get(path)
        assert response.content_type == "application/activity+json"
        actor = json.loads(response.data)
        assert actor["id"] == SITE_URL + path
        assert actor["type"] == kind
        assert actor["inbox"] == actor["endpoints"]["sharedInbox"] == f"{SITE_URL}/fediverse/inbox"
        key = actor["publicKey"]
        assert key["owner"] == actor["id"]
        assert key["id"] == actor["id"] + "#main-key"
        assert key["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
        assert b"PRIVATE" not in response.data
    assert stat.S_IMODE(key_file(database).stat().st_mode) == 0o600
    assert client.get("/sections/nothing/actor.json").status_code == 404


def test_outbox_pages_objects_and_tombstones(seeds: Path, database: Path, catalog: Catalog) -> None:
    client = _app(seeds, database, catalog, PAGE_SIZE=2).test_client()
    outbox = _get(client, "/fediverse/outbox.json")
    assert outbox["totalItems"] == 3
    assert outbox["last"] == f"{SITE_URL}/fediverse/outbox/2.json"
    first = _get(client, "/fediverse/outbox/1.json")
    assert first["next"] == f"{SITE_URL}/fediverse/outbox/2.json"
    assert "prev" not in first
    creates = first["orderedItems"]
    assert [item["type"] for item in creates] == ["Create", "Create"]
    note = creates[0]["object"]
    assert note["type"] == "Note"
    assert note["attributedTo"] == f"{SITE_URL}/fediverse/actor.json"
    assert "summary" not in note  # Mastodon would show it as a content warning
    assert note["attachment"][0]["mediaType"] == "image/png"
    served = _get(client, note["id"].removeprefix(SITE_URL))
    assert {key: served[key] for key in note} == note
    boosts = _get(client, "/sections/science/outbox/1.json")["orderedItems"]
    assert [item["type"] for item in boosts] == ["Announce"]
    # Escaping: the article's markup is text in the Note's HTML.
    markets = next(
        i["object"]
        for i in creates + _get(client, "/fediverse/outbox/2.json")["orderedItems"]
        if "Markets" in i["object"]["content"]
    )
    assert "&lt;bonds&gt;" in markets["content"]
    assert "<bonds>" not in markets["content"]
    followers = client.get("/fediverse/followers.json")
    assert json.loads(followers.data)["totalItems"] == 0
    assert followers.headers["Cache-Control"] == "no-store"
    (seeds / "002_comet.txt").unlink()
    run_ingest(catalog, seeds)
    comet = next(c for c in creates if "comet" in c["object"]["content"])
    gone = client.get(comet["object"]["id"].removeprefix(SITE_URL))
    assert gone.status_code == 410
    assert json.loads(gone.data)["type"] == "Tombstone"


def test_pages_link_their_actor_and_articles_their_creator(
    seeds: Path, database: Path, catalog: Catalog
) -> None:
    client = _app(seeds, database, catalog, FEDIVERSE_HANDLE="@desk@example.social").test_client()
    link = '<link rel="alternate" type="application/activity+json" href="{}">'
    assert link.format(f"{SITE_URL}/fediverse/actor.json") in client.get("/").text
    page = client.get("/sections/science/").text
    assert link.format(f"{SITE_URL}/sections/science/actor.json") in page
    article = client.get("/articles/a-comet-returns/").text
    assert '<meta name="fediverse:creator" content="@desk@example.social">' in article
    # An article page links the Note it is: pasting its URL in Mastodon finds the post.
    (href,) = re.findall(
        r'<link rel="alternate" type="application/activity\+json" href="([^"]+)"', article
    )
    note = json.loads(client.get(href.removeprefix(SITE_URL)).data)
    assert (note["type"], note["url"]) == ("Note", f"{SITE_URL}/articles/a-comet-returns/")


def test_an_author_handle_wins_over_the_site_handle(
    seeds: Path, database: Path, catalog: Catalog
) -> None:
    text = (seeds / "002_comet.txt").read_text()
    (seeds / "002_comet.txt").write_text("---\nauthor: Ana Lima\n---\n" + text)
    client = _app(
        seeds,
        database,
        catalog,
        FEDIVERSE_HANDLE="@desk@example.social",
        FEDIVERSE_AUTHORS="Ana Lima=@ana@Example.Social; Bo=@bo@b.example",
    ).test_client()
    article = client.get("/articles/a-comet-returns/").text
    assert '<meta name="fediverse:creator" content="@ana@example.social">' in article


def test_webfinger_without_a_resource_is_400(client: FlaskClient) -> None:
    # RFC 7033, 4.2: an absent or empty "resource" parameter is a bad request.
    for path in ("/.well-known/webfinger", "/.well-known/webfinger?resource="):
        response = client.get(path)
        assert response.status_code == 400, path
        assert "resource" in response.text
        assert "no-store" in response.headers["Cache-Control"]


def test_everything_is_404_when_off(app: Flask) -> None:
    client = app.test_client()
    for path in ("/.well-known/webfinger", "/fediverse/actor.json", "/fediverse/outbox/1.json"):
        assert client.get(path).status_code == 404
    assert client.post("/fediverse/inbox", data=b"{}").status_code == 404
    assert "activity+json" not in client.get("/").text
    assert not any("fediverse" in path for path in site_paths(app.config["FEEDSVC"])[0])


def test_the_export_holds_the_read_only_parts(
    seeds: Path, database: Path, catalog: Catalog, tmp_path: Path
) -> None:
    app = _app(seeds, database, catalog)
    out = tmp_path / "site"
    build(app, out)
    webfinger = json.loads((out / ".well-known" / "webfinger").read_bytes())
    assert webfinger["subject"] == f"acct:test_news@{HOST}"
    assert json.loads((out / "fediverse" / "actor.json").read_bytes())["type"] == "Organization"
    assert (out / "sections" / "science" / "outbox" / "1.json").is_file()
    assert not (out / "fediverse" / "followers.json").exists()  # live only
    assert not (out / "fediverse" / "inbox").exists()
    headers = (out / "_headers").read_text()
    assert "Content-Type: application/activity+json" in headers
    assert "Content-Type: application/jrd+json" in headers


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_the_dependency_answer_is_exact_for_fediverse_paths(
    tmp_path: Path, database: Path, catalog: Catalog, seed: int
) -> None:
    rng = random.Random(seed)
    newsroom, plain = newsroom_app(tmp_path, database, catalog, rng, articles=6)
    config = {
        "SEEDS_DIR": newsroom.folder,
        "DATABASE": database,
        "SITE_URL": SITE_URL,
        "FEED_SIZE": 3,
        "PAGE_SIZE": 2,
        "CARD_DIR": tmp_path / "cards",
        "TOMBSTONE_DAYS": 2,
        "FEDIVERSE": True,
        "FEDIVERSE_AUTHORS": "Ana Lima=@ana@example.social",
    }
    app = create_app(config)
    settings, moment = app.config["FEEDSVC"], T0
    before = fingerprints(catalog, settings)
    assert any(path.startswith("/fediverse/objects/") for path in before)
    rendered = _render(app, set(before))
    assert set(rendered) == set(before)
    for number in range(15):
        ops = [newsroom.step() for _ in range(rng.choice((1, 2)))]
        moment += timedelta(days=rng.choice((0, 1)), seconds=rng.randrange(1, 90))
        run_ingest(catalog, newsroom.folder, now=moment)
        after = fingerprints(catalog, settings)
        now_rendered = _render(app, set(before) | set(after))
        assert set(now_rendered) == set(after), (number, ops)
        differ = {
            p for p in set(rendered) | set(now_rendered) if rendered.get(p) != now_rendered.get(p)
        }
        named = affected(before, after)
        assert named == differ, (number, ops, sorted(named - differ), sorted(differ - named))
        before, rendered = after, now_rendered
    del plain


def test_an_update_always_says_when_the_note_was_updated(
    seeds: Path, database: Path, catalog: Catalog
) -> None:
    # Mastodon ignores an Update whose object has no `updated` newer than what it holds.
    from feedsvc.config.settings import load_settings
    from feedsvc.fediverse import objects

    settings = load_settings({}, {"SEEDS_DIR": seeds, "DATABASE": database, "SITE_URL": SITE_URL})
    run_ingest(catalog, seeds)
    record, seq, _section_seq = next(iter(catalog.each_live()))
    note = objects.note(settings, record, seq)
    assert "updated" not in note  # never edited: a Note says nothing of an update
    update = objects.update(settings, note)
    assert update["object"]["updated"] == note["published"]
    assert update["published"] == note["published"]
    edited = note | {"updated": "2026-01-02T03:04:05Z"}
    assert objects.update(settings, edited)["object"]["updated"] == "2026-01-02T03:04:05Z"
