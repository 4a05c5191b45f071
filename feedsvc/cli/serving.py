"""Commands that serve the publication: serve, watch, nginx-conf."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from feedsvc import urlmap
from feedsvc.catalog.place import FileIdentity
from feedsvc.catalog.safekeeping import ingest_settled
from feedsvc.cli.common import print_report, settings_of, waiting
from feedsvc.config.settings import Settings, to_environ
from feedsvc.errors import FeedsvcError
from feedsvc.health import CATALOG, write_state

if TYPE_CHECKING:
    pass

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
    write_state(settings.runtime, CATALOG, {"catalog_id": known.catalog_id})
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


def _first_ingest(settings: Settings) -> FileIdentity:
    """Ingest before serving; when that fails but the catalog can be read, serve it anyway
    (degraded, never down: the writer retries and health says why). Returns the catalog
    served: the writer and the workers never take another one put in its place."""
    from feedsvc.articles.budgeted import close_all
    from feedsvc.catalog import open_catalog
    from feedsvc.catalog.place import file_identity

    try:
        report, known = ingest_settled(settings, on_wait=waiting)
        print_report(report)
    except FeedsvcError as exc:
        try:
            status = os.stat(settings.database)
            catalog = open_catalog(settings.database, snapshot=True)
        except (FeedsvcError, OSError):
            raise exc from None
        try:
            known = file_identity(catalog, status)
        finally:
            catalog.close()
        logging.getLogger("feedsvc.serve").error(
            "%s; serving the catalog as it is while the writer retries", exc
        )
    finally:
        close_all()  # the writer reads from now on, with readers of its own
    return known


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
