"""Settings layering: defaults, then FEEDSVC_* variables, then overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.config.settings import Settings, load_settings
from feedsvc.errors import ConfigError


def test_defaults() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.site.url == "http://127.0.0.1:8000"
    assert settings.seeds_dir == Path("seeds")


def test_environment_then_overrides() -> None:
    env = {
        "FEEDSVC_SITE_URL": "https://a.example/news/",
        "FEEDSVC_SITE_TITLE": "A",
        "FEEDSVC_FEED_SIZE": "5",
        "OTHER": "x",
    }
    settings = load_settings(env, {"SITE_TITLE": "B"})
    assert settings.site.url == "https://a.example/news"
    assert settings.site.absolute("/feeds/atom.xml") == "https://a.example/news/feeds/atom.xml"
    assert settings.site.title == "B"
    assert settings.feed_size == 5


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SITE_URL": "example.org"}, "absolute"),
        ({"SITE_URL": "ftp://example.org"}, "absolute"),
        ({"SITE_URL": "https://example.org/?q=1"}, "query"),
        ({"FEED_SIZE": "many"}, "whole number"),
        ({"FEED_SIZE": 0}, "between"),
        ({"SITE_TITLE": "  "}, "empty"),
        ({"NO_SUCH": 1}, "unknown setting"),
    ],
)
def test_bad_settings_are_refused_clearly(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({}, overrides)


def test_settings_travel_to_worker_processes_and_back(tmp_path: Path) -> None:
    from dataclasses import replace

    from feedsvc.config.settings import to_environ

    settings = load_settings(
        {},
        {
            "SEEDS_DIR": tmp_path / "seeds",
            "DATABASE": tmp_path / "db.sqlite3",
            "SITE_URL": "https://news.example.org/sub",
            "ACCESS_LOG": "0",
            "WEBSUB_HUB": "https://hub.example.org/",
            "PUBLICATION_ID": "news.example.org,2024",
            "FEED_SIZE": 7,
        },
    )
    environ = to_environ(settings)
    assert environ["FEEDSVC_ACCESS_LOG"] == "0"
    assert environ["FEEDSVC_CARD_DIR"] is None  # unset: the default
    back = load_settings({k: v for k, v in environ.items() if v is not None})
    assert back == settings
    relative = replace(settings, database=Path("rel/db.sqlite3"))
    assert to_environ(relative)["FEEDSVC_DATABASE"] == str(Path("rel/db.sqlite3").resolve())
