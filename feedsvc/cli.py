"""The feedsvc command line: thin commands that parse options, call one function, print."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from feedsvc.config import Settings, load_settings
from feedsvc.errors import ArticleError, FeedsvcError
from feedsvc.ingest import IngestReport, Rejected, read_article, scan
from feedsvc.keeper import FileIdentity, run_ingest

EXIT_PROBLEMS = 1
EXIT_ERROR = 2


def _settings(ctx: click.Context) -> Settings:
    value: Settings = ctx.obj
    return value


def _print_problem(item: Rejected, *, err: bool) -> None:
    click.echo(f"{item.path}: {item.reason} [{item.code}]", err=err)
    if item.hint:
        click.echo(f"    hint: {item.hint}", err=err)


def _print_report(report: IngestReport) -> None:
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
        _print_problem(item, err=True)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FeedsvcError as exc:
            click.echo(f"feedsvc: {exc}", err=True)
            sys.exit(EXIT_ERROR)


@click.group(cls=_Group, context_settings={"auto_envvar_prefix": "FEEDSVC", "show_default": True})
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


def _waiting() -> None:
    click.echo("another feedsvc process is writing the catalog; waiting for it…", err=True)


def _ingest_settled(
    settings: Settings, patience: float = 30.0
) -> tuple[IngestReport, FileIdentity]:
    """Ingest; while files are still being written, wait for them (bounded) and go again.

    Returns the report and the catalog file written."""
    deadline = time.monotonic() + patience
    report, known = run_ingest(settings, on_wait=_waiting)
    while report.pending and time.monotonic() < deadline:
        time.sleep(min(report.settle_in or 0.1, max(0.0, deadline - time.monotonic())) + 0.02)
        again, known = run_ingest(settings, on_wait=_waiting, known=known)
        report = _merged(report, again)
    return report, known


def _merged(first: IngestReport, second: IngestReport) -> IngestReport:
    """Return what two ingests in a row did together (the second's view of what is left)."""
    return IngestReport(
        added=first.added + second.added,
        changed=first.changed + second.changed,
        unchanged=tuple(k for k in second.unchanged if k not in second.added + first.added),
        removed=first.removed + second.removed,
        renamed=first.renamed + second.renamed,
        rejected=second.rejected,
        sections=first.sections | second.sections,
        tombstones_expired=first.tombstones_expired or second.tombstones_expired,
        pending=second.pending,
        settle_in=second.settle_in,
    )


@cli.command("ingest")
@click.pass_context
def ingest_command(ctx: click.Context) -> None:
    """Bring the catalog up to date with the seeds folder and print what changed.

    With FEEDSVC_WEBSUB_HUB set, the hub is told which feeds changed.
    """
    settings = _settings(ctx)
    report, _ = _ingest_settled(settings)
    _print_report(report)
    if settings.websub_hub and report.changed_anything:
        from feedsvc.live import changed_feeds
        from feedsvc.websub import HubNotifier

        notifier = HubNotifier(settings.websub_hub).start()
        notifier.publish(changed_feeds(settings, report))
        notifier.drain(60)
        notifier.stop()
        click.echo(f"websub: {notifier.sent} pings sent, {notifier.failed} failed")


@cli.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Parse every article file; list the problems (code, reason, hint); exit 1 if any."""
    settings = _settings(ctx)
    problems: list[Rejected] = []
    files = scan(settings.seeds_dir)
    for path in files:
        try:
            read_article(path, max_bytes=settings.max_file_kb * 1024)
        except ArticleError as exc:
            problems.append(Rejected(exc.source, exc.code, exc.reason))
    for problem in problems:
        _print_problem(problem, err=False)
    click.echo(f"{len(files)} files checked, {len(problems)} with problems")
    if problems:
        sys.exit(EXIT_PROBLEMS)


@cli.command()
@click.pass_context
def watch(ctx: click.Context) -> None:
    """Keep the catalog up to date as seed files change (what `serve` runs beside the server)."""
    from feedsvc.live import watch_forever

    watch_forever(_settings(ctx))


@cli.command()
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
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    reload: bool,
    live: bool | None,
    access_log: bool | None,
) -> None:
    """Ingest, then serve the site with the granian production server.

    Logs every request; stops gracefully on SIGTERM or Ctrl-C. Unless --no-watch, a watcher
    process re-ingests within moments of a seed file being added, edited, renamed or removed.
    """
    from granian import Granian
    from granian.constants import Interfaces

    settings = _settings(ctx)
    if "FEEDSVC_SITE_URL" not in os.environ and ctx.find_root().params["site_url"] is None:
        shown = f"[{host}]" if ":" in host else host
        overrides = {"SEEDS_DIR": settings.seeds_dir, "DATABASE": settings.database}
        settings = load_settings(os.environ, {"SITE_URL": f"http://{shown}:{port}", **overrides})
    from feedsvc.listen import check_free

    check_free(host, port)
    known = _first_ingest(settings)
    # Workers are separate processes: they read the same settings from the environment.
    logging_requests = settings.access_log if access_log is None else access_log
    os.environ.update(
        FEEDSVC_SEEDS_DIR=str(settings.seeds_dir.resolve()),
        FEEDSVC_DATABASE=str(settings.database.resolve()),
        FEEDSVC_SITE_URL=settings.site.url,
        FEEDSVC_ACCESS_LOG="1" if logging_requests else "0",
    )
    from feedsvc.supervisor import Supervisor, mark_disabled

    supervisor = None
    if settings.watch if live is None else live:
        supervisor = Supervisor(load_settings(os.environ), known=known).start()
    else:
        mark_disabled(settings)
    site = settings.site.url
    click.echo(f"serving {site}/ (feeds: {site}/feeds/atom.xml, {site}/feeds/rss.xml)")
    try:
        Granian(
            "feedsvc:create_app",
            factory=True,
            address=host,
            port=port,
            workers=workers,
            interface=Interfaces.WSGI,
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
        report, known = _ingest_settled(settings)
        _print_report(report)
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


@cli.command()
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
@click.pass_context
def build(
    ctx: click.Context, out_dir: Path, gz: bool, br: bool, include: tuple[str, ...], jobs: int
) -> None:
    """Ingest, then export the whole site into OUT_DIR for any static host or CDN.

    Every file is the body the server sends for its URL. OUT_DIR is replaced atomically;
    unchanged files keep their timestamps. _headers, _redirects and _nginx.conf beside the
    pages tell a web server how to serve them.
    """
    from feedsvc import create_app
    from feedsvc.export import build as export

    settings = _settings(ctx)
    _print_report(_ingest_settled(settings)[0])
    app = create_app(
        {
            "SEEDS_DIR": settings.seeds_dir,
            "DATABASE": settings.database,
            "SITE_URL": settings.site.url,
            "ACCESS_LOG": False,  # an export is not traffic
        }
    )
    if sys.stderr.isatty():
        with click.progressbar(length=1, label="exporting", file=sys.stderr) as bar:

            def total(count: int) -> None:
                bar.length = count

            report = export(
                app,
                out_dir,
                include=include,
                gzip=gz,
                brotli=br,
                jobs=jobs,
                progress=bar.update,
                on_total=total,
            )
    else:
        report = export(app, out_dir, include=include, gzip=gz, brotli=br, jobs=jobs)
    click.echo(
        f"exported {len(report.files)} URLs and {len(report.redirects)} redirects to "
        f"{report.out_dir}: {report.written} files written, {report.unchanged} unchanged, "
        f"{report.removed} removed, {report.bytes / 1_048_576:.1f} MiB, {report.seconds:.1f} s"
    )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the health document as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Say whether publishing works: the catalog, the writer, changes not yet published.

    The same as a running server's /healthz; exit code 1 when something is wrong.
    """
    from feedsvc.catalog.watch import catalog_state
    from feedsvc.status import health

    settings = _settings(ctx)
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


@cli.command()
@click.pass_context
def backup(ctx: click.Context) -> None:
    """Take a consistent backup of the catalog now (beside it, in CATALOG.backups/)."""
    from feedsvc.keeper import backup_now

    click.echo(f"backup written: {backup_now(_settings(ctx))}")


@cli.command()
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

    settings = _settings(ctx)
    if listing:
        for item in list_backups(settings.database):
            click.echo(f"{item.path.name}  {item.taken.isoformat()}  {item.reason}")
        return
    click.echo(f"restored {restore_backup(settings, name)} into {settings.database}")


@cli.command("nginx-conf")
@click.option("--upstream", default="127.0.0.1:8000", help="Where `feedsvc serve` listens.")
@click.option("--listen", default="80", help="nginx listen directive value.")
@click.option("--server-name", default="_", help="nginx server_name.")
@click.option("--cache-dir", default="/var/cache/nginx/feedsvc", help="Folder of nginx's cache.")
def nginx_conf(upstream: str, listen: str, server_name: str, cache_dir: str) -> None:
    """Print an nginx configuration for a caching reverse proxy in front of feedsvc."""
    from feedsvc.deploy import nginx_proxy_conf

    click.echo(
        nginx_proxy_conf(
            upstream=upstream, listen=listen, server_name=server_name, cache_dir=cache_dir
        ),
        nl=False,
    )


def main() -> None:
    """Run the command line."""
    cli()
