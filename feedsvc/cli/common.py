"""What every command shares: the settings, exit codes, and how reports are printed."""

from __future__ import annotations

import click

from feedsvc.catalog.ingest import IngestReport, Rejected
from feedsvc.config.settings import Settings

EXIT_PROBLEMS = 1
EXIT_ERROR = 2


def settings_of(ctx: click.Context) -> Settings:
    """Return the settings the group built once for every command."""
    value: Settings = ctx.obj
    return value


def print_problem(item: Rejected, *, err: bool) -> None:
    """Print one rejected file with its hint."""
    click.echo(f"{item.path}: {item.reason} [{item.code}]", err=err)
    if item.hint:
        click.echo(f"    hint: {item.hint}", err=err)


def print_report(report: IngestReport) -> None:
    """Print what an ingest did."""
    click.echo(
        f"added {len(report.added)}, changed {len(report.changed)}, "
        f"unchanged {len(report.unchanged)}, removed {len(report.removed)}, "
        f"renamed {len(report.renamed)}, rejected {len(report.rejected)}"
        + (f", still being written {len(report.pending)}" if report.pending else "")
    )
    for old, new in report.renamed:
        click.echo(f"renamed {old} -> {new}")
    for item in report.rejected:
        click.echo("rejected ", err=True, nl=False)
        print_problem(item, err=True)


def waiting() -> None:
    """Say that another writer holds the catalog (before waiting for it)."""
    click.echo("another feedsvc process is writing the catalog; waiting for it…", err=True)
