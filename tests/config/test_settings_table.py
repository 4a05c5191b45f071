"""The one settings table says every setting, with help and its real default (the manual's
settings page is made from it: tests/docs/test_manual.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from feedsvc.config.settings import Settings, Site
from feedsvc.config.table import PREFIX, SETTINGS


def test_every_field_has_one_setting_with_help() -> None:
    targets = [setting.target for setting in SETTINGS]
    assert len(targets) == len(set(targets))
    fields = {f.name for f in dataclasses.fields(Settings) if f.name != "site"}
    fields |= {f"site.{f.name}" for f in dataclasses.fields(Site)}
    assert set(targets) == fields
    for setting in SETTINGS:
        assert setting.help.strip(), f"{PREFIX}{setting.name} has no help text"
        assert setting.default.strip(), f"{PREFIX}{setting.name} says no default"


def test_a_default_shown_as_a_value_is_the_default() -> None:
    defaults = Settings()
    checked = 0
    for setting in SETTINGS:
        shown = setting.default
        if not (shown.startswith("`") and shown.endswith("`") and shown.count("`") == 2):
            continue  # said in words ("drawn", "cards/ beside the database")
        holder = defaults.site if setting.target.startswith("site.") else defaults
        value = getattr(holder, setting.target.removeprefix("site."))
        if isinstance(value, bool):
            value = "1" if value else "0"
        elif isinstance(value, Path):
            value = value.relative_to(Path.cwd()) if value.is_absolute() else value
        assert Path(shown.strip("`")) == Path(str(value)) or shown.strip("`") == str(value), (
            setting.name
        )
        checked += 1
    assert checked >= 25
