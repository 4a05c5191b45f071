"""README's settings tables are made from the one settings table, and say every setting."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from feedsvc.config.settings import Settings, Site
from feedsvc.config.table import PREFIX, SETTINGS, markdown

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("group", ["general", "fediverse"])
def test_readme_shows_the_table_as_the_code_has_it(group: str) -> None:
    text = README.read_text(encoding="utf-8")
    marker = f"<!-- settings table ({group}): made by `python -m feedsvc.config.table {group}`"
    assert marker in text, f"README lacks the {group} settings table's marker"
    after = text.split(marker, 1)[1].split("\n", 1)[1]
    assert after.startswith(markdown(group)), (
        f"README's {group} settings table differs from feedsvc/config/table.py: paste the "
        f"output of `python -m feedsvc.config.table {group}` under its marker"
    )


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
