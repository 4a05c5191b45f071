"""The deploy command: send the export to a bucket or a folder."""

from __future__ import annotations

import logging
import sys

import click

from feedsvc.cli.building import ADOPT, export_site, say_adopted
from feedsvc.cli.common import settings_of
from feedsvc.deploy import MAX_DELETES, DeployReport

SHOWN = 20  # keys listed per kind of change by --dry-run


def _print_dry_run(report: DeployReport, max_deletes: int) -> None:
    for action in ("put", "redirect", "delete"):
        keys = [change.key for change in report.changes if change.action == action]
        for key in keys[:SHOWN]:
            click.echo(f"  {action} {key}")
        if len(keys) > SHOWN:
            click.echo(f"  … and {len(keys) - SHOWN} more to {action}")
    if report.deleted > max_deletes:
        click.echo(
            f"a deploy would refuse: {report.deleted} deletions are more than --max-deletes "
            f"{max_deletes}",
            err=True,
        )


@click.command()
@click.argument("target")
@click.option(
    "--endpoint-url",
    envvar="FEEDSVC_S3_ENDPOINT",
    help="Endpoint of an S3-compatible service (R2, B2, MinIO, ...) [env: FEEDSVC_S3_ENDPOINT].",
)
@click.option("--dry-run", is_flag=True, help="List what would change; change nothing.")
@click.option(
    "--max-deletes",
    default=MAX_DELETES,
    type=click.IntRange(0),
    help="Refuse to deploy when more objects than this would be deleted.",
)
@click.option(
    "--verify",
    is_flag=True,
    help="List the target and repair what differs (objects missing, changed or extra) instead "
    "of trusting this machine's record of the last deploy.",
)
@click.option(
    "--build/--no-build",
    "rebuild",
    default=True,
    help="Ingest and bring the export up to date first (incremental).",
)
@ADOPT
@click.pass_context
def deploy(
    ctx: click.Context,
    target: str,
    endpoint_url: str | None,
    dry_run: bool,
    max_deletes: int,
    verify: bool,
    rebuild: bool,
    adopt: bool,
) -> None:
    """Bring the export (FEEDSVC_EXPORT_DIR) up to date, then send it to TARGET:
    s3://BUCKET[/PREFIX] or a folder.

    Only what changed is sent, with the headers the server sends (Content-Type, Cache-Control)
    and old slugs as redirects, in the order of publication (what is linked to before what
    links to it); deletions come last. Credentials come from boto3's usual chain.

    What this machine sent last time is trusted while TARGET's marker names that deploy; when
    another machine deployed since, when there is no record here, or with --verify, TARGET is
    listed and what differs is repaired.

    Before the ingest, TARGET's deployed record (feedsvc-record.json) is read: articles the
    catalog lacks keep the ids and dates it gave them, so a fresh machine (a CI runner, no
    catalog) deploys the same ids as the last one.
    """
    from feedsvc.deploy import adopting, open_target, require_extra
    from feedsvc.deploy import deploy as send

    require_extra(target)  # before a build: say at once which extra an s3:// target needs
    logging.getLogger("botocore").setLevel(logging.WARNING)  # it logs where it found keys
    settings = settings_of(ctx)
    export_dir = settings.export_dir
    if rebuild:
        record = None
        if adopt:
            destination = open_target(target, export_dir, endpoint_url=endpoint_url)
            found = adopting.from_target(destination, settings)
            say_adopted(found, target)
            record = found.record if found is not None else None
        export_site(settings, export_dir, adopt=record)
    if sys.stderr.isatty() and not dry_run:
        with click.progressbar(length=1, label="deploying", file=sys.stderr) as bar:

            def total(count: int) -> None:
                bar.length = max(count, 1)

            report = send(
                export_dir,
                target,
                endpoint_url=endpoint_url,
                max_deletes=max_deletes,
                progress=bar.update,
                on_total=total,
                verify=verify,
            )
    else:
        report = send(
            export_dir,
            target,
            endpoint_url=endpoint_url,
            dry_run=dry_run,
            max_deletes=max_deletes,
            verify=verify,
        )
    sent = f"{report.sent} objects ({report.count('redirect')} redirects)"
    if dry_run:
        click.echo(
            f"dry run: {report.target} would get {sent}, delete {report.deleted}, "
            f"{report.unchanged} unchanged"
        )
        _print_dry_run(report, max_deletes)
    else:
        click.echo(
            f"deployed {export_dir} to {report.target}: sent {sent}, deleted {report.deleted}, "
            f"{report.unchanged} unchanged, {report.bytes / 1_048_576:.1f} MiB, "
            f"{report.seconds:.1f} s" + (" (target listed)" if report.verified else "")
        )
