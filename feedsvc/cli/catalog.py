"""Commands about the catalog: ingest, check, status, backup, restore."""

from __future__ import annotations

import json
import sys

import click

from feedsvc.catalog.safekeeping import ingest_settled
from feedsvc.cli.common import (
    EXIT_PROBLEMS,
    print_problem,
    print_report,
    settings_of,
    waiting,
)
from feedsvc.config.settings import Settings


@click.command("ingest")
@click.pass_context
def ingest_command(ctx: click.Context) -> None:
    """Bring the catalog up to date with the seeds folder and print what changed.

    Articles no source dates are dated now, or at SOURCE_DATE_EPOCH when it is set.

    With FEEDSVC_WEBSUB_HUB set, the hub is told which feeds changed.
    """
    from feedsvc.config.build_clock import source_date

    settings = settings_of(ctx)
    report, _ = ingest_settled(settings, on_wait=waiting, now=source_date())
    print_report(report)
    if settings.websub_hub and report.changed_anything:
        from feedsvc.deploy.websub import HubNotifier
        from feedsvc.service.writer import changed_feeds

        notifier = HubNotifier(settings.websub_hub).start()
        notifier.publish(changed_feeds(settings, report))
        notifier.drain(60)
        notifier.stop()
        click.echo(f"websub: {notifier.sent} pings sent, {notifier.failed} failed")


@click.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Parse every article file; list the problems (code, reason, hint); exit 1 if any.

    Then say where the articles' dates come from: the catalog, and what a build with no
    catalog (a CI runner, a static host's builder) would use: front matter, the deployed
    record (FEEDSVC_EXPORT_DIR's), git, or the time it first sees them (a warning).
    """
    from feedsvc.articles.seeds_folder import check_folder

    settings = settings_of(ctx)
    checked = check_folder(
        settings.seeds_dir, settings.max_file_kb * 1024, budget=settings.file_seconds
    )
    for problem in checked.problems:
        print_problem(problem, err=False)
    click.echo(f"{checked.files} files checked, {len(checked.problems)} with problems")
    _say_date_sources(settings, checked.keys, checked.dated)
    if checked.problems:
        sys.exit(EXIT_PROBLEMS)


def _say_date_sources(settings: Settings, keys: tuple[str, ...], dated: frozenset[str]) -> None:
    from feedsvc.catalog.dating import Dating, date_sources
    from feedsvc.deploy.adopting import from_export

    found = from_export(settings.export_dir, settings)
    record = found.record if found is not None else None
    dating = Dating(settings.seeds_dir, git=settings.git_dates, record=record)
    in_catalog = _catalogued(settings)
    counts, shallow = date_sources(keys, dated, dating)
    kept = sum(key in in_catalog for key in keys)
    click.echo(f"dates: {kept} of {len(keys)} articles keep the dates the catalog recorded")
    click.echo(
        "a build with no catalog would date them by: "
        + ", ".join(f"{source} {count}" for source, count in counts.items())
    )
    if shallow:
        click.echo(
            f"warning: {len(shallow)} articles would be dated by a shallow git clone: run "
            "`git fetch --unshallow` (or `fetch-depth: 0` in actions/checkout)"
        )
    if counts["first seen"]:
        click.echo(
            f"warning: {counts['first seen']} articles have no date a fresh build can find "
            "(no front-matter `date:`, no deployed record, not committed to git): a build with "
            "no catalog would date them at the time it runs"
        )


def _catalogued(settings: Settings) -> set[str]:
    """Return the keys of the live articles in the catalog (none when there is no catalog)."""
    from feedsvc.catalog import open_catalog

    if not settings.database.exists():
        return set()
    catalog = open_catalog(settings.database, readonly=True)
    try:
        rows = catalog.connection.execute("SELECT key FROM articles WHERE removed IS NULL")
        return {row[0] for row in rows}
    finally:
        catalog.close()


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the health document as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Say whether publishing works: the catalog, the writer, changes not yet published.

    The same as a running server's /healthz; exit code 1 when something is wrong.
    """
    from feedsvc.catalog.watch import catalog_state
    from feedsvc.health import health

    settings = settings_of(ctx)
    document = health(settings, catalog_state(settings.database))
    if as_json:
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(f"status: {document['status']}")
        for problem in document["problems"]:
            click.echo(f"  problem: {problem}")
        for warning in document["warnings"]:
            click.echo(f"  warning: {warning}")
        for part in ("catalog", "writer"):
            details = ", ".join(f"{k} {v}" for k, v in document[part].items() if v is not None)
            click.echo(f"{part}: {details}")
    if document["status"] != "ok":
        sys.exit(EXIT_PROBLEMS)


@click.command()
@click.pass_context
def backup(ctx: click.Context) -> None:
    """Take a consistent backup of the catalog now (beside it, in CATALOG.backups/)."""
    from feedsvc.catalog.safekeeping import backup_now

    click.echo(f"backup written: {backup_now(settings_of(ctx))}")


@click.command()
@click.argument("name", required=False)
@click.option("--list", "listing", is_flag=True, help="List the backups, newest first.")
@click.pass_context
def restore(ctx: click.Context, name: str | None, listing: bool) -> None:
    """Bring back the catalog from a backup (the newest, or NAME); ids and dates as they were.

    A running server picks the restored catalog up by itself. The catalog being replaced is
    backed up first (reason "before-restore").
    """
    from feedsvc.catalog.backups import list_backups
    from feedsvc.catalog.safekeeping import restore as restore_backup

    settings = settings_of(ctx)
    if listing:
        for item in list_backups(settings.database):
            click.echo(f"{item.path.name}  {item.taken.isoformat()}  {item.reason}")
        return
    click.echo(f"restored {restore_backup(settings, name)} into {settings.database}")
