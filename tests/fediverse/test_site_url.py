"""Federation needs an https site URL: ActivityPub servers fetch actors and verify signatures
over https, and an http actor is one nobody can follow. Only a loopback site, with private
addresses allowed (FEEDSVC_FEDIVERSE_ALLOW_PRIVATE, tests), may be plain http."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from feedsvc.catalog import Catalog
from feedsvc.errors import ConfigError
from feedsvc.web.app import create_app
from tests.conftest import feedsvc_command, free_port, run_ingest

REFUSAL = "federation needs an https:// site URL"


def _config(seeds: Path, database: Path, site_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "SEEDS_DIR": seeds,
        "DATABASE": database,
        "SITE_URL": site_url,
        "FEDIVERSE": True,
        **extra,
    }


@pytest.mark.parametrize(
    ("site_url", "allow_private"),
    [
        ("http://news.example.org", False),
        ("http://news.example.org", True),  # private addresses allowed: still not loopback
        ("http://127.0.0.1:8000", False),
        ("http://[::1]:8000", False),
    ],
)
def test_the_app_refuses_federation_without_https(
    seeds: Path, database: Path, catalog: Catalog, site_url: str, allow_private: bool
) -> None:
    run_ingest(catalog, seeds)
    config = _config(seeds, database, site_url, FEDIVERSE_ALLOW_PRIVATE=allow_private)
    with pytest.raises(ConfigError, match=REFUSAL):
        create_app(config)


@pytest.mark.parametrize(
    ("site_url", "allow_private"),
    [
        ("https://news.example.org", False),
        ("http://127.0.0.1:8000", True),
        ("http://localhost:8000", True),
        ("http://[::1]:8000", True),
    ],
)
def test_the_app_takes_https_or_a_loopback_test_setup(
    seeds: Path, database: Path, catalog: Catalog, site_url: str, allow_private: bool
) -> None:
    run_ingest(catalog, seeds)
    config = _config(seeds, database, site_url, FEDIVERSE_ALLOW_PRIVATE=allow_private)
    assert create_app(config).test_client().get("/fediverse/actor.json").status_code == 200


def test_an_http_site_without_federation_is_served(
    seeds: Path, database: Path, catalog: Catalog
) -> None:
    run_ingest(catalog, seeds)
    config = _config(seeds, database, "http://news.example.org") | {"FEDIVERSE": False}
    assert create_app(config).test_client().get("/feeds/atom.xml").status_code == 200


@pytest.mark.slow
def test_serve_refuses_to_start_federation_without_https_in_one_line(
    seeds: Path, database: Path
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")},
        "FEEDSVC_FEDIVERSE": "1",
        "FEEDSVC_SITE_URL": "http://news.example.org",
    }
    command = feedsvc_command(seeds, database, "serve", "--port", str(free_port()))
    # Its own session: when it does start, the server and its workers all end with the test.
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        _out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("feedsvc serve started federation on an http:// site URL")
    assert process.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1, err
    assert REFUSAL in lines[0]
    assert "FEEDSVC_SITE_URL" in lines[0]
    assert "FEEDSVC_FEDIVERSE_ALLOW_PRIVATE" in lines[0]
