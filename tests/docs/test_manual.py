"""The manual: MkDocs builds it strictly, and its references say every setting and command."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from feedsvc.cli import cli
from feedsvc.config.table import PREFIX, SETTINGS, markdown

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS))  # the hooks module MkDocs loads by path
import hooks  # noqa: E402


def _commands() -> Iterator[tuple[str, click.Command]]:
    group = click.Context(cli)
    for name in cli.list_commands(group):
        command = cli.get_command(group, name)
        assert command is not None
        yield name, command


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the manual as CI does (strict: a broken link or a page out of the nav fails)."""
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.mark.slow
def test_the_settings_page_shows_every_setting_with_its_default_and_help(site: Path) -> None:
    page = (site / "reference" / "settings" / "index.html").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"<code>{PREFIX}{setting.name}</code>" in page, setting.name


@pytest.mark.slow
def test_the_cli_page_shows_every_command_and_option(site: Path) -> None:
    page = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    for name, command in _commands():
        assert f"feedsvc {name}" in page, name
        for param in command.params:
            for flag in getattr(param, "opts", []) if isinstance(param, click.Option) else []:
                assert flag in page, f"{name} {flag}"
    assert "Sentinel" not in page  # what mkdocs-click's table style shows for click 8.3+ defaults


@pytest.mark.slow
def test_every_generated_reference_is_filled_in(site: Path) -> None:
    for page in site.rglob("*.html"):
        assert "generated:" not in page.read_text(encoding="utf-8"), page


def test_every_command_and_option_says_what_it_does() -> None:
    for name, command in _commands():
        assert (command.help or "").strip(), f"feedsvc {name} has no docstring"
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert (param.help or "").strip(), f"feedsvc {name} {param.opts[0]} has no help"


def test_the_settings_page_asks_for_every_group_of_settings() -> None:
    page = (DOCS / "reference" / "settings.md").read_text(encoding="utf-8")
    for group in {setting.group for setting in SETTINGS}:
        assert f"<!-- generated: settings {group} -->" in page, group


def test_the_hooks_fill_markers_from_the_code() -> None:
    text = "a\n<!-- generated: settings fediverse -->\nb\n<!-- generated: nginx-conf -->\n"
    filled = hooks.fill(text)
    assert markdown("fediverse") in filled
    assert "proxy_cache_path" in filled
    assert "generated:" not in filled
    with pytest.raises(ValueError, match="no generated reference"):
        hooks.fill("<!-- generated: nothing -->")


def test_the_systemd_example_is_the_commands_output() -> None:
    unit = hooks.generated("systemd-unit", None)
    assert "ExecStart=" in unit
    assert '"FEEDSVC_DATABASE=/var/lib/feedsvc/feedsvc.sqlite3"' in unit


def test_every_page_is_in_the_nav_and_every_nav_entry_is_a_page() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r":\s*([\w/.-]+\.md)\s*$", config, re.MULTILINE))
    pages = {str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md")}
    assert listed == pages


def test_the_changelog_page_is_changes_md() -> None:
    assert (DOCS / "changes.md").read_text(encoding="utf-8").strip() == '--8<-- "CHANGES.md"'
    assert (ROOT / "CHANGES.md").read_text(encoding="utf-8").startswith("# Changes\n")
