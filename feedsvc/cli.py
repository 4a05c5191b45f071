"""The feedsvc command line: thin commands that parse options, call one function, print."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from feedsvc.config import Settings, load_settings
from feedsvc.errors import ArticleError, FeedsvcError
from feedsvc.ingest import IngestReport, Rejected, read_article, run_ingest, scan

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


@cli.command("ingest")
@click.pass_context
def ingest_command(ctx: click.Context) -> None:
    """Bring the catalog up to date with the seeds folder and print what changed.

    With FEEDSVC_WEBSUB_HUB set, the hub is told which feeds changed.
    """
    settings = _settings(ctx)
    report = run_ingest(settings)
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
    _print_report(run_ingest(settings))
    # Workers are separate processes: they read the same settings from the environment.
    logging_requests = settings.access_log if access_log is None else access_log
    os.environ.update(
        FEEDSVC_SEEDS_DIR=str(settings.seeds_dir.resolve()),
        FEEDSVC_DATABASE=str(settings.database.resolve()),
        FEEDSVC_SITE_URL=settings.site.url,
        FEEDSVC_ACCESS_LOG="1" if logging_requests else "0",
    )
    watcher = None
    if settings.watch if live is None else live:
        from feedsvc.live import start_watcher_process

        watcher = start_watcher_process(load_settings(os.environ))
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
        if watcher is not None:
            watcher.terminate()
            watcher.join(10)


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
    _print_report(run_ingest(settings))
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
