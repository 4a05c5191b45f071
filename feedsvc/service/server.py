"""What the production server runs: the app's outermost WSGI callable, and how granian loads it.

`feedsvc serve` and the benchmarks start granian with these, so what is measured is what runs.
Granian's WSGI interface, not its native RSGI one: measured on this project's 2-core machine
(granian 2.8, a callable returning 9 KB of cached bytes under wrk -c32), a bare WSGI callable
costs the server ~13-15 µs of CPU a request and a bare RSGI one ~20-26 µs (its asyncio
machinery), so RSGI would make every warm request dearer (README, Performance).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

# granian's target and interface; the factory is called once in each worker process.
TARGET = "feedsvc.service.server:create_server"
INTERFACE = "wsgi"
# glibc gives each thread that allocates its own malloc arena (up to 8 per core); a worker's
# few threads (granian's, the access log's flush) need no more than two: measured at 100,000
# articles, a worker's RSS drops by ~3.5 MiB and requests/s do not move (README, Performance).
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h


def _limit_malloc_arenas() -> None:
    """Cap glibc's malloc arenas in this process (nothing on other C libraries)."""
    name = ctypes.util.find_library("c")
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name).mallopt(_M_ARENA_MAX, MALLOC_ARENAS)


def create_server() -> WSGIApplication:
    """Return the app's WSGI callable as the server should call it: the HTTP edge (behind the
    proxy fix, when FEEDSVC_TRUST_PROXY), without the extra call of Flask.__call__."""
    from feedsvc.web.app import create_app

    _limit_malloc_arenas()
    app = create_app()
    server: WSGIApplication = app.wsgi_app
    return server
