"""The follow round trip against an independent implementation (Fedify, tests/js-fediverse),
over loopback with the real server: Follow -> signed Accept, then a new article (Create and a
section's Announce), an edit (Update) and a removal (Delete) arrive signed, and Fedify verifies
every one of them (its inbox listeners run only for requests whose signature it checked)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import article_text, stop_server
from tests.fediverse.helpers import Follower, serve

pytestmark = [pytest.mark.external]


@pytest.fixture
def follower(tmp_path: Path) -> Iterator[Follower]:
    started = Follower(tmp_path)
    yield started
    started.close()


def _json(url: str) -> dict[str, object]:
    request = urllib.request.Request(url, headers={"Accept": "application/activity+json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        value: dict[str, object] = json.loads(response.read())
        return value


def test_follow_then_create_update_delete_arrive_signed(
    seeds: Path, tmp_path: Path, follower: Follower
) -> None:
    process, base, log = serve(seeds, tmp_path)
    try:
        site, science = f"{base}/fediverse/actor.json", f"{base}/sections/science/actor.json"
        follower.send(f"follow {site}")
        accept = follower.wait(lambda e: e["event"] == "Accept")
        assert accept["actor"] == site
        follower.send(f"follow {science}")
        assert follower.wait(lambda e: e["event"] == "Accept")["actor"] == science
        assert _json(f"{base}/fediverse/followers.json")["totalItems"] == 1
        assert _json(f"{base}/sections/science/followers.json")["totalItems"] == 1

        path = seeds / "003_probe.txt"
        text = article_text("Science", "A probe lands", ["It landed."])
        path.write_text("---\ntags: [C++, space probes]\n---\n" + text, encoding="utf-8")
        created = follower.wait(lambda e: e["event"] == "Create", 30)
        assert created["actor"] == site
        assert created["objectType"] == "Note"
        assert "A probe lands" in created["content"]
        assert created["url"] == f"{base}/articles/a-probe-lands/"
        boosted = follower.wait(lambda e: e["event"] == "Announce")
        assert boosted["actor"] == science
        assert boosted["object"] == created["object"]

        path.write_text(path.read_text() + "\n\nA correction.", encoding="utf-8")
        updated = follower.wait(lambda e: e["event"] == "Update", 30)
        assert updated["object"] == created["object"]
        assert updated["updated"]

        follower.send(f"lookup {created['object']}")  # Fedify parses the object as served
        looked = follower.wait(lambda e: e["event"] == "lookup")
        assert looked["type"] == "Note"
        # Fedify reads the hashtags as leading to their pages; C++ is none (Mastodon: #C).
        tags = {tag["name"]: tag["href"] for tag in looked["json"]["tag"]}
        assert tags == {
            "#Science": f"{base}/sections/science/",
            "#SpaceProbes": f"{base}/tags/space-probes/",
        }

        path.unlink()
        deleted = follower.wait(lambda e: e["event"] == "Delete", 30)
        assert deleted["object"] == created["object"]
        assert deleted["actor"] == site

        follower.send(f"unfollow {site}")
        follower.wait(lambda e: e["event"] == "sent-unfollow")
        assert _json(f"{base}/fediverse/followers.json")["totalItems"] == 0
        # Every POST Fedify got was one it accepted.
        assert all(e["status"] == 202 for e in follower.seen if e["event"] == "inbox-status")
    finally:
        assert stop_server(process) == 0, log.read_text()
