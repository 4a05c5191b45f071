"""The stats command: how many subscribe, from access logs, keeping no one's address."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from feedsvc.cli.common import settings_of
from feedsvc.stats.agents import MAX_COUNT

if TYPE_CHECKING:
    from feedsvc.stats.report import Report


@click.command("stats")
@click.argument(
    "logs",
    nargs=-1,
    metavar="[LOG]...",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option(
    "--since",
    type=click.IntRange(min=1),
    help="Only the last DAYS days of the logs (counted back from the newest day in them).",
    metavar="DAYS",
)
@click.option(
    "--html",
    "html_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write a self-contained HTML report (chart, reader apps, feeds) to this file.",
)
@click.option(
    "--svg",
    "svg_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the chart of subscribers per day as an SVG file.",
)
@click.option(
    "--max-count",
    type=click.IntRange(min=1),
    default=MAX_COUNT,
    help="Refuse a web reader's claim of more subscribers than this for one feed.",
)
@click.option(
    "--followers/--no-followers",
    default=True,
    help="Add the fediverse followers from the federation store beside the catalog.",
)
@click.pass_context
def stats(
    ctx: click.Context,
    logs: tuple[Path, ...],
    as_json: bool,
    since: int | None,
    html_file: Path | None,
    svg_file: Path | None,
    max_count: int,
    followers: bool,
) -> None:
    """Estimate subscribers per feed and day from access logs (LOG files or standard input).

    Reads feedsvc's own log, nginx's combined logs, CloudFront standard logs and S3 server
    access logs, plain or gzipped, mixed. Web readers that poll for their users (Feedly,
    Inoreader, NewsBlur, Feedbin, ...) are counted by what they say; other readers as the
    distinct address and app pairs of each day, hashed with a salt drawn for the day and never
    kept: no address is stored or printed. Crawlers, browsers, monitors and scripts are left
    out. Lines that cannot be counted are summed up by reason on standard error.
    """
    from feedsvc.stats.chart import chart as draw
    from feedsvc.stats.chart import page, svg_text
    from feedsvc.stats.followers import read_follows
    from feedsvc.stats.report import as_json as report_json
    from feedsvc.stats.report import build
    from feedsvc.stats.sources import read_logs
    from feedsvc.stats.tally import Tally

    if not logs and sys.stdin.isatty():
        raise click.UsageError("name LOG files, or pipe a log into standard input")
    tally = Tally(max_count=max_count)
    read_logs(tally, logs or (Path("-"),), stdin=sys.stdin.buffer)
    follows = read_follows(settings_of(ctx).database) if followers else None
    report = build(tally, follows, since)
    if html_file is not None:
        html_file.write_text(page(report), encoding="utf-8")
    if svg_file is not None:
        svg_file.write_text(svg_text(draw(report)), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(report_json(report), indent=2, ensure_ascii=False))
    else:
        _print(report)
    for reason, count in sorted(report.skipped.items()):
        click.echo(f"skipped: {reason}: {count:,}", err=True)


def _print(report: Report) -> None:
    if not report.days:
        click.echo("no requests in the logs")
        return
    last = report.days[-1]
    click.echo(f"{report.total:,} subscriptions on {last} ({len(report.days)} days of logs)")
    for feed in report.feeds:
        click.echo(
            f"  {feed.path}: {feed.subscribers:,} (web readers {feed.web:,}, WebSub "
            f"{feed.websub:,}, own readers {feed.readers:,})"
        )
    if report.followers_daily and report.followers_daily[-1]:
        click.echo(f"  fediverse followers: {report.followers_daily[-1]:,}")
    total = report.total or 1
    for name, count in report.shares[:15]:
        click.echo(f"  {name}: {count:,} ({100 * count / total:.1f} %)")
