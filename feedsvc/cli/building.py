"""The export commands: build, and the ingest-then-export that deploy shares with it."""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from feedsvc.catalog.safekeeping import ingest_settled
from feedsvc.cli.common import print_report, settings_of, waiting
from feedsvc.config.settings import Settings

if TYPE_CHECKING:
    from feedsvc.catalog.deployed import DeployedRecord
    from feedsvc.deploy.adopting import Found


ADOPT = click.option(
    "--adopt/--no-adopt",
    default=True,
    help="Take the ids, dates and slugs of articles the catalog lacks from the deployed record "
    "(feedsvc-record.json) of what was published before.",
)


def say_adopted(found: Found | None, where: str) -> None:
    """Say which deployed record the ingest adopts from, or that there is none."""
    if found is None:
        click.echo(f"no deployed record at {where}: articles the catalog lacks get new ids")
        return
    click.echo(
        f"deployed record {found.where}: {len(found.record.articles)} articles published as "
        f"{found.record.publication}"
    )


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--gzip", "gz", is_flag=True, help="Also write precompressed .gz siblings.")
@click.option("--brotli", "br", is_flag=True, help="Also write precompressed .br siblings.")
@click.option("--include", multiple=True, help="Another site path to export (repeatable).")
@click.option(
    "--jobs",
    default=lambda: os.cpu_count() or 1,
    type=click.IntRange(1, 64),
    help="Worker processes.",
    show_default="number of cores",
)
@ADOPT
@click.option(
    "--adopt-from",
    metavar="URL_OR_PATH",
    help="Read the deployed record from here instead of OUT_DIR: the live site's "
    "https://…/feedsvc-record.json (a 404 means none yet), a file, or an export folder.",
)
@click.pass_context
def build(
    ctx: click.Context,
    out_dir: Path,
    gz: bool,
    br: bool,
    include: tuple[str, ...],
    jobs: int,
    adopt: bool,
    adopt_from: str | None,
) -> None:
    """Ingest, then export the whole site into OUT_DIR for any static host or CDN.

    Every file is the body the server sends for its URL. OUT_DIR is replaced atomically;
    unchanged files keep their timestamps. _headers, _redirects and _nginx.conf beside the
    pages tell a web server how to serve them. Articles the catalog lacks keep the ids and
    dates the previous export (or --adopt-from) gave them.
    """
    from feedsvc.deploy import adopting

    settings = settings_of(ctx)
    record = None
    if adopt_from is not None and not adopt:
        raise click.UsageError("--adopt-from and --no-adopt contradict each other")
    if adopt_from is not None:
        found = adopting.from_source(adopt_from, settings)
        say_adopted(found, adopt_from)
        record = found.record if found is not None else None
    elif adopt:
        found = adopting.from_export(out_dir, settings)
        if found is not None:  # no export there yet: nothing to say
            say_adopted(found, str(out_dir))
            record = found.record
    export_site(settings, out_dir, gz=gz, br=br, include=include, jobs=jobs, adopt=record)


def export_site(
    settings: Settings,
    out_dir: Path,
    *,
    gz: bool = False,
    br: bool = False,
    include: tuple[str, ...] = (),
    jobs: int = 1,
    adopt: DeployedRecord | None = None,
    now: datetime | None = None,
) -> None:
    """Ingest, then bring the export in `out_dir` up to date; print the summary.

    `adopt` is the record of what a deployed site published: articles the catalog lacks take
    their ids, dates and slugs from it. `now` is the ingest's clock (None: the time now)."""
    from feedsvc.config.build_clock import source_date
    from feedsvc.export.builder import already_built
    from feedsvc.export.builder import build as export
    from feedsvc.export.names import BuildError
    from feedsvc.web.app import create_app

    ingested = ingest_settled(settings, on_wait=waiting, adopt=adopt, now=now or source_date())[0]
    print_report(ingested)
    if ingested.pending:
        # An export without them would withdraw them from the site (a deploy deletes them).
        named = ", ".join(ingested.pending[:5]) + (", …" if len(ingested.pending) > 5 else "")
        raise BuildError(
            str(settings.seeds_dir),
            f"{len(ingested.pending)} article files are still being written or dated in the "
            f"future ({named}): nothing was exported; run the build again once they settle",
        )
    # Nothing to do (built from this very catalog state): no app to make, no article to read.
    report = None if include else already_built(settings, out_dir, gzip=gz, brotli=br)
    if report is None:
        app = create_app(settings=replace(settings, access_log=False))  # not traffic
        bar = click.progressbar(length=1, label="exporting", file=sys.stderr)
        with bar if sys.stderr.isatty() else nullcontext() as shown:

            def total(count: int) -> None:
                bar.length = count

            report = export(
                app,
                out_dir,
                include=include,
                gzip=gz,
                brotli=br,
                jobs=jobs,
                progress=bar.update if shown is not None else None,
                on_total=total if shown is not None else None,
            )
    click.echo(
        f"exported {len(report.files)} URLs and {len(report.redirects)} redirects to "
        f"{report.out_dir}: {report.written} files written, {report.unchanged} unchanged, "
        f"{report.removed} removed, {report.bytes / 1_048_576:.1f} MiB, {report.seconds:.1f} s; "
        f"{report.rendered} URLs rendered ({'full' if report.full else 'incremental'} build)"
    )
