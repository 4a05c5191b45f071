"""MkDocs hooks: the references that come from the code, filled in at every build.

A page asks for one with an HTML comment (invisible where the Markdown is read as it is):
`<!-- generated: settings general -->`, `<!-- generated: settings fediverse -->`,
`<!-- generated: nginx-conf -->`, `<!-- generated: systemd-unit -->`. The command line's
reference is mkdocs-click's `::: mkdocs-click` block, read from the click commands.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from feedsvc.cli import cli
from feedsvc.cli.systemd import unit_text
from feedsvc.config.settings import load_settings
from feedsvc.config.table import markdown

_MARKER = re.compile(r"<!-- generated: ([a-z-]+)(?: ([a-z]+))? -->")

# The example publication the operations page shows its unit for.
_EXAMPLE = {
    "FEEDSVC_SEEDS_DIR": "/srv/news/articles",
    "FEEDSVC_DATABASE": "/var/lib/feedsvc/feedsvc.sqlite3",
    "FEEDSVC_EXPORT_DIR": "/var/lib/feedsvc/site",
    "FEEDSVC_SITE_URL": "https://news.example.org",
    "FEEDSVC_SITE_TITLE": "The Harbour Times",
}


def _fenced(language: str, text: str) -> str:
    return f"```{language}\n{text.rstrip()}\n```"


def generated(kind: str, argument: str | None) -> str:
    """Return the Markdown a marker stands for."""
    if kind == "settings" and argument is not None:
        return markdown(argument)
    if kind == "nginx-conf":
        result = CliRunner().invoke(cli, ["nginx-conf", "--upstream", "127.0.0.1:8000"])
        if result.exit_code != 0:
            raise RuntimeError(result.output)
        return _fenced("nginx", result.output)
    if kind == "systemd-unit":
        text = unit_text(
            load_settings(_EXAMPLE),
            name="feedsvc",
            user="feedsvc",
            host="127.0.0.1",
            port=8000,
            workers=None,
            environment_file=Path("/etc/feedsvc/feedsvc.env"),
            python="/opt/feedsvc/.venv/bin/python",
        )
        return _fenced("ini", text)
    raise ValueError(f"no generated reference is called {kind!r}")


def fill(text: str) -> str:
    """Return a page's Markdown with every marker replaced by what it stands for."""
    return _MARKER.sub(lambda match: generated(match[1], match[2]), text)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Fill a page's markers before MkDocs renders it."""
    return fill(markdown)
