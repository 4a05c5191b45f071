"""Commands about the catalog: ingest, check, status, backup, restore."""

from __future__ import annotations

import json
import sys

import click

from feedsvc.cli.common import (
    EXIT_PROBLEMS,
    print_problem,
    print_report,
    settings_of,
    waiting,
)
from feedsvc.keeper import ingest_settled


@click.command("ingest")
@click.pass_context
def ingest_command(ctx: click.Context) -> None:
    """Bring the catalog up to date with the seeds folder and print what changed.

    With FEEDSVC_WEBSUB_HUB set, the hub is told which feeds changed.
    """
    settings = settings_of(ctx)
    report, _ = ingest_settled(settings, on_wait=waiting)
    print_report(report)
    if settings.websub_hub and report.changed_anything:
        from feedsvc.live import changed_feeds
        from feedsvc.websub import HubNotifier

        notifier = HubNotifier(settings.websub_hub).start()
        notifier.publish(changed_feeds(settings, report))
        notifier.drain(60)
        notifier.stop()
        click.echo(f"websub: {notifier.sent} pings sent, {notifier.failed} failed")


@click.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Parse every article file; list the problems (code, reason, hint); exit 1 if any."""
    from feedsvc.folder import check_folder

    settings = settings_of(ctx)
    checked, problems = check_folder(settings.seeds_dir, settings.max_file_kb * 1024)
    for problem in problems:
        print_problem(problem, err=False)
    click.echo(f"{checked} files checked, {len(problems)} with problems")
    if problems:
        sys.exit(EXIT_PROBLEMS)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the health document as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Say whether publishing works: the catalog, the writer, changes not yet published.

    The same as a running server's /healthz; exit code 1 when something is wrong.
    """
    from feedsvc.catalog.watch import catalog_state
    from feedsvc.status import health

    settings = settings_of(ctx)
    document = health(settings, catalog_state(settings.database))
    if as_json:
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(f"status: {document['status']}")
        for problem in document["problems"]:
            click.echo(f"  problem: {problem}")
        for part in ("catalog", "writer"):
            details = ", ".join(f"{k} {v}" for k, v in document[part].items() if v is not None)
            click.echo(f"{part}: {details}")
    if document["status"] != "ok":
        sys.exit(EXIT_PROBLEMS)


@click.command()
@click.pass_context
def backup(ctx: click.Context) -> None:
    """Take a consistent backup of the catalog now (beside it, in CATALOG.backups/)."""
    from feedsvc.keeper import backup_now

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
    from feedsvc.keeper import restore as restore_backup

    settings = settings_of(ctx)
    if listing:
        for item in list_backups(settings.database):
            click.echo(f"{item.path.name}  {item.taken.isoformat()}  {item.reason}")
        return
    click.echo(f"restored {restore_backup(settings, name)} into {settings.database}")
