"""Commands that serve or export the publication: serve, watch, build, nginx-conf."""

from __future__ import annotations

import logging
import os
import sys
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from feedsvc import urlmap
from feedsvc.catalog.safekeeping import FileIdentity, ingest_settled
from feedsvc.cli.common import print_report, settings_of, waiting
from feedsvc.config.settings import Settings, to_environ
from feedsvc.errors import FeedsvcError

if TYPE_CHECKING:
    from feedsvc.catalog.deployed import DeployedRecord
    from feedsvc.deploy.adopting import Found

_DEPLOY = click.option(
    "--deploy",
    "deploy_target",
    default=None,
    metavar="TARGET",
    help="After each change, export and deploy to TARGET (s3://BUCKET[/PREFIX] or a folder), "
    "then ping hubs (default: FEEDSVC_DEPLOY).",
)


def _with_deploy(settings: Settings, target: str | None) -> Settings:
    return settings if target is None else replace(settings, deploy_target=target)


@click.command()
@_DEPLOY
@click.pass_context
def watch(ctx: click.Context, deploy_target: str | None) -> None:
    """Keep the catalog up to date as seed files change (what `serve` runs beside the server).

    With --deploy, each change is also exported, deployed, and then pinged to WebSub hubs.
    """
    from feedsvc.service.writer import watch_forever

    watch_forever(_with_deploy(settings_of(ctx), deploy_target))


@click.command()
@click.option("--host", default="127.0.0.1", help="Address to listen on.")
@click.option("--port", default=8000, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option(
    "--workers",
    default=lambda: os.cpu_count() or 1,
    type=click.IntRange(1, 64),
    help="Worker processes.",
    show_default="number of cores",
)
@click.option("--reload", is_flag=True, help="Restart when the code changes (development).")
@click.option(
    "--watch/--no-watch",
    "live",
    default=None,
    help="Follow changes to the seeds folder (default: FEEDSVC_WATCH, on).",
)
@click.option(
    "--access-log/--no-access-log",
    "access_log",
    default=None,
    help="Log every request (default: FEEDSVC_ACCESS_LOG, on).",
)
@_DEPLOY
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    reload: bool,
    live: bool | None,
    access_log: bool | None,
    deploy_target: str | None,
) -> None:
    """Ingest, then serve the site with the granian production server.

    Logs every request; stops gracefully on SIGTERM or Ctrl-C. Unless --no-watch, a watcher
    process re-ingests within moments of a seed file being added, edited, renamed or removed.
    """
    from granian import Granian
    from granian.constants import Interfaces

    from feedsvc.service import server
    from feedsvc.service.listen import check_free
    from feedsvc.service.supervisor import Supervisor, mark_disabled

    settings = _with_deploy(settings_of(ctx), deploy_target)
    if "FEEDSVC_SITE_URL" not in os.environ and ctx.find_root().params["site_url"] is None:
        shown = f"[{host}]" if ":" in host else host
        settings = replace(settings, site=replace(settings.site, url=f"http://{shown}:{port}"))
    if access_log is not None:
        settings = replace(settings, access_log=access_log)
    check_free(host, port)
    known = _first_ingest(settings)
    # Workers are processes granian starts: they read the settings from the environment.
    for name, value in to_environ(settings).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    supervisor = None
    if settings.watch if live is None else live:
        supervisor = Supervisor(settings, known=known).start()
    else:
        mark_disabled(settings)
    atom, rss = (settings.site.absolute(urlmap.feed(None, n)) for n in urlmap.FEED_FILENAMES[:2])
    click.echo(f"serving {settings.site.url}/ (feeds: {atom}, {rss})")
    try:
        Granian(
            server.TARGET,
            factory=True,
            address=host,
            port=port,
            workers=workers,
            interface=Interfaces(server.INTERFACE),
            # Requests are logged by feedsvc's own edge (FEEDSVC_ACCESS_LOG), far cheaper.
            log_access=False,
            # One Python thread per worker process: feedgen swaps the process locale while it
            # formats RSS dates, which is not thread-safe. Concurrency comes from the workers.
            blocking_threads=1,
            reload=reload,
            reload_paths=[Path(__file__).parent] if reload else None,
        ).serve()
    finally:
        if supervisor is not None:
            supervisor.stop()


def _first_ingest(settings: Settings) -> FileIdentity | None:
    """Ingest before serving; when that fails but the catalog can be read, serve it anyway
    (degraded, never down: the writer retries and health says why)."""
    from feedsvc.catalog import open_catalog

    try:
        report, known = ingest_settled(settings, on_wait=waiting)
        print_report(report)
    except FeedsvcError as exc:
        try:
            open_catalog(settings.database, snapshot=True).close()
        except FeedsvcError:
            raise exc from None
        logging.getLogger("feedsvc.serve").error(
            "%s; serving the catalog as it is while the writer retries", exc
        )
        return None
    return known


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
    app = create_app(settings=replace(settings, access_log=False))  # an export is not traffic
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


@click.command("nginx-conf")
@click.option("--upstream", default="127.0.0.1:8000", help="Where `feedsvc serve` listens.")
@click.option("--listen", default="80", help="nginx listen directive value.")
@click.option("--server-name", default="_", help="nginx server_name.")
@click.option("--cache-dir", default="/var/cache/nginx/feedsvc", help="Folder of nginx's cache.")
def nginx_conf(upstream: str, listen: str, server_name: str, cache_dir: str) -> None:
    """Print an nginx configuration for a caching reverse proxy in front of feedsvc."""
    from feedsvc.export.server_config import nginx_proxy_conf

    click.echo(
        nginx_proxy_conf(
            upstream=upstream, listen=listen, server_name=server_name, cache_dir=cache_dir
        ),
        nl=False,
    )
