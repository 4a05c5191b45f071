"""Shared fixtures: every test works in its own temporary folder with a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from feedsvc import create_app
from feedsvc.catalog import Catalog, open_catalog
from feedsvc.ingest import IngestReport, ingest

DATA = Path(__file__).parent / "data"
SEED = DATA / "articles" / "seed.txt"
T0 = datetime(2024, 3, 1, 9, 30, 0, tzinfo=UTC)
SITE_URL = "https://news.example.org"


def article_text(
    section: str, title: str, paragraphs: Sequence[str], *, repeat_title: bool = True
) -> str:
    """Return an article in the seed format."""
    blocks = [section, title, *([title] if repeat_title else []), *paragraphs]
    return "\n\n".join(blocks)


def write_article(folder: Path, key: str, section: str, title: str, *paragraphs: str) -> Path:
    """Write one article file and return its path."""
    path = folder / f"{key}.txt"
    path.write_text(article_text(section, title, paragraphs or ("Body.",)), encoding="utf-8")
    return path


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """Return a seeds folder with the real seed and two more articles."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "000_5633a81924f3da7a.txt").write_bytes(SEED.read_bytes())
    write_article(
        folder, "001_markets", "Business", 'Markets & <bonds> "rally"', "Stocks 'rose' & fell <b>."
    )
    write_article(
        folder, "002_comet", "Science", "A comet returns", "Astronomers saw it.", "Twice."
    )
    return folder


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """Return the path of a fresh catalog file."""
    return tmp_path / "instance" / "catalog.sqlite3"


@pytest.fixture
def catalog(database: Path) -> Iterator[Catalog]:
    """Return an open, writable catalog."""
    opened = open_catalog(database)
    yield opened
    opened.close()


def run_ingest(catalog: Catalog, seeds: Path, now: datetime = T0) -> IngestReport:
    """Ingest `seeds` at a fixed moment."""
    return ingest(catalog, seeds, site_host="news.example.org", now=now)


@pytest.fixture
def app(seeds: Path, database: Path, catalog: Catalog) -> Flask:
    """Return an app over the ingested `seeds` folder."""
    run_ingest(catalog, seeds)
    return create_app(
        {"SEEDS_DIR": seeds, "DATABASE": database, "SITE_URL": SITE_URL, "SITE_TITLE": "Test News"}
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client of `app`."""
    return app.test_client()


@pytest.fixture
def runner() -> CliRunner:
    """Return a click runner."""
    return CliRunner()
