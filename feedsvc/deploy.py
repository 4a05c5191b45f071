"""Configuration that web servers need to serve feedsvc right, rendered from templates."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("feedsvc", "templates/deploy"),
        autoescape=False,  # noqa: S701 - server configuration, not HTML
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )


def nginx_proxy_conf(
    *, upstream: str, listen: str = "80", server_name: str = "_", cache_dir: str
) -> str:
    """Return an nginx configuration putting a caching reverse proxy in front of feedsvc."""
    return (
        _environment()
        .get_template("nginx-proxy.conf")
        .render(upstream=upstream, listen=listen, server_name=server_name, cache_dir=cache_dir)
    )
