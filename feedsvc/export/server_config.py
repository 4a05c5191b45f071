"""Configuration that web servers need to serve feedsvc right, rendered from templates."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined

from feedsvc.urlmap import PLACEHOLDER, shape_of


@dataclass(frozen=True, slots=True)
class Exported:
    """One exported file and the headers a web server should send with it."""

    path: str  # the URL path
    name: str  # the file, relative to the export folder
    media_type: str
    content_type: str  # with its charset
    headers: tuple[tuple[str, str], ...]

    @property
    def cache_control(self) -> str:
        """Return the Cache-Control the app sent."""
        return dict(self.headers).get("Cache-Control", "")


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("feedsvc.export", "templates"),
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


# Host defaults are right for these; every other file states its Content-Type.
_OBVIOUS_TYPES = frozenset({"text/html", "text/css", "image/png", "image/svg+xml"})


def _headers_of(item: Exported) -> tuple[tuple[str, str], ...]:
    extra = () if item.media_type in _OBVIOUS_TYPES else (("Content-Type", item.content_type),)
    return extra + item.headers


def header_rules(files: Sequence[Exported]) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """Group files into (path or :placeholder pattern, headers) rules, exact where they differ.

    A pattern is used only when every file of that shape wants the same headers, so no path
    ever matches two rules (hosts merge the values of rules that overlap).
    """
    by_shape: dict[str, list[Exported]] = {}
    for item in files:
        by_shape.setdefault(shape_of(item.path), []).append(item)
    rules: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    for shape, items in by_shape.items():
        kinds = {_headers_of(item) for item in items}
        if len(kinds) == 1 and (len(items) > 1 or shape == items[0].path):
            rules.append((shape, kinds.pop()))
        else:
            rules.extend((item.path, _headers_of(item)) for item in items)
    return rules


Rules = list[tuple[str, tuple[tuple[str, str], ...]]]


def headers_file(rules: Rules) -> str:
    """Return a `_headers` file (the format Netlify and Cloudflare Pages read)."""
    lines = ["# Response headers for this feedsvc export (written by `feedsvc build`)."]
    for path, headers in rules:
        lines.append(path)
        lines += [f"  {name}: {value}" for name, value in headers]
    return "\n".join(lines) + "\n"


def redirects_file(redirects: Sequence[tuple[str, str]], site_url: str) -> str:
    """Return a `_redirects` file: the 301s of renamed articles and of page numbers whose
    articles the front page shows."""
    lines = ["# Permanent redirects (written by `feedsvc build`)."]
    lines += [f"{old} {site_url}{new} 301" for old, new in redirects]
    return "\n".join(lines) + "\n"


def _nginx_key(path: str) -> str:
    """Return the map key matching `path` as nginx's $uri (a folder becomes its index.html)."""
    if path.endswith("/"):
        path += "index.html"
    if ":" not in path:
        return path
    escaped = re.escape(path)
    escaped = PLACEHOLDER.sub("[^/]+", escaped)
    return f"~^{escaped}$"


def nginx_static_conf(
    rules: Rules,
    redirects: Sequence[tuple[str, str]],
    *,
    site_url: str,
    root: str,
    listen: str = "80",
    server_name: str = "_",
) -> str:
    """Return an nginx configuration serving an export with the header `rules`."""
    names = sorted({name for _path, headers in rules for name, _value in headers})
    maps = []
    for number, name in enumerate(names):
        entries = []
        for path, headers in rules:
            value = dict(headers).get(name)
            if value is not None:
                entries.append((_nginx_key(path), value))
        # Exact paths first: nginx tries them before any regular expression anyway.
        entries.sort(key=lambda entry: entry[0].startswith("~"))
        maps.append({"variable": f"$feedsvc_h{number}", "header": name, "entries": entries})
    return (
        _environment()
        .get_template("nginx-static.conf")
        .render(
            maps=maps,
            redirects=redirects,
            site_url=site_url,
            root=root,
            listen=listen,
            server_name=server_name,
            map_size=max(1024, 2 * len(rules)),
        )
    )


def deploy_files(
    files: Sequence[Exported], redirects: Sequence[tuple[str, str]], *, site_url: str, root: str
) -> dict[str, bytes]:
    """Return the files beside an export that tell a web server how to serve it."""
    rules = header_rules(files)
    nginx = nginx_static_conf(rules, redirects, site_url=site_url, root=root)
    return {
        "_headers": headers_file(rules).encode("utf-8"),
        "_redirects": redirects_file(redirects, site_url).encode("utf-8"),
        "_nginx.conf": nginx.encode("utf-8"),
    }


def deploy_inputs(
    files: Sequence[Exported], redirects: Sequence[tuple[str, str]], *, site_url: str, root: str
) -> dict[str, str]:
    """Return for each file of `deploy_files` a digest of what it is made of: equal digests,
    equal files (the templates are feedsvc's code, which the export's build digest covers).
    Much cheaper than the files, which hold a line per file of a large export."""
    # Each distinct (Content-Type, headers) once, each file as a line naming it by number:
    # tens of thousands of files share a handful of header sets.
    kinds: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
    lines = "\n".join(
        f"{item.path}\t{item.media_type}\t"
        f"{kinds.setdefault((item.content_type, item.headers), len(kinds))}"
        for item in files
    )
    common = repr((site_url, list(redirects), list(kinds))) + "\0" + lines
    inputs = hashlib.sha256(common.encode()).hexdigest()[:24]
    served_from = hashlib.sha256(f"{inputs}\0{root}".encode()).hexdigest()[:24]
    return {"_headers": inputs, "_redirects": inputs, "_nginx.conf": served_from}
