"""The feedsvc command line: thin commands that parse options, call one function, print."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from feedsvc.cli import building, catalog, deploying, serving, stats, systemd
from feedsvc.cli.common import EXIT_ERROR, EXIT_PROBLEMS
from feedsvc.config.settings import load_settings
from feedsvc.errors import FeedsvcError

__all__ = ["EXIT_ERROR", "EXIT_PROBLEMS", "cli", "main"]


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FeedsvcError as exc:
            click.echo(f"feedsvc: {exc}", err=True)
            sys.exit(EXIT_ERROR)


@click.group(cls=_Group, context_settings={"show_default": True})
@click.option("--seeds-dir", type=click.Path(path_type=Path), help="Folder of article files.")
@click.option("--database", type=click.Path(path_type=Path), help="The SQLite catalog file.")
@click.option("--site-url", help="Absolute base URL used in feeds and pages.")
@click.pass_context
def cli(
    ctx: click.Context, seeds_dir: Path | None, database: Path | None, site_url: str | None
) -> None:
    """Publish a folder of plain-text articles as feeds and HTML permalinks."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    overrides = {
        name: value
        for name, value in (
            ("SEEDS_DIR", seeds_dir),
            ("DATABASE", database),
            ("SITE_URL", site_url),
        )
        if value is not None
    }
    ctx.obj = load_settings(os.environ, overrides)
    if ctx.obj.fediverse:  # refused before anything starts (this check loads no cryptography)
        from feedsvc.fediverse.actors import check_site_url

        check_site_url(ctx.obj)


for command in (
    catalog.ingest_command,
    catalog.check,
    catalog.status,
    catalog.backup,
    catalog.restore,
    serving.watch,
    serving.serve,
    building.build,
    serving.nginx_conf,
    systemd.systemd_unit,
    deploying.deploy,
    stats.stats,
):
    cli.add_command(command)


def main() -> None:
    """Run the command line."""
    cli()
