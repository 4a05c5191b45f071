"""feedsvc's own access log: one flushed line per request, control characters kept encoded."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from feedsvc import create_app
from feedsvc.catalog import Catalog
from feedsvc.web.access_log import AccessLog

from .conftest import T0, run_ingest


class _Stream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushed_at: list[int] = []

    def flush(self) -> None:
        self.flushed_at.append(len(self.getvalue()))
        super().flush()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Return the moment the access log reads as now (change it to move time)."""
    now = [T0.timestamp()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def test_access_log_one_line_per_request(seeds: Path, database: Path, catalog: Catalog) -> None:
    run_ingest(catalog, seeds)
    app = create_app({"SEEDS_DIR": seeds, "DATABASE": database, "TRUST_PROXY": "1"})
    stream = io.StringIO()
    app.extensions["feedsvc.edge"].access_log = AccessLog(stream)
    client = app.test_client()
    client.get("/feeds/atom.xml", headers={"X-Forwarded-For": "198.51.100.4"})
    client.get("/feeds/atom.xml")  # from the cache: logged all the same
    client.get("/no/such%0Athing?x=%0d%0a")
    client.post("/feeds/atom.xml")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4
    assert '198.51.100.4 - "GET /feeds/atom.xml HTTP/1.1" 200 ' in lines[0]
    assert '"GET /feeds/atom.xml HTTP/1.1" 200 ' in lines[1]
    assert '"GET /no/such%0Athing?x=%0d%0a HTTP/1.1" 404 ' in lines[2]  # one line, as sent
    assert '"POST /feeds/atom.xml HTTP/1.1" 405 ' in lines[3]


def test_the_line_format(clock: list[float]) -> None:
    stream = _Stream()
    log = AccessLog(stream)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/feeds/atom.xml",
        "QUERY_STRING": "page=2",
        "REMOTE_ADDR": "192.0.2.1",
        "SERVER_PROTOCOL": "HTTP/1.0",
    }
    log.write(environ, "304 Not Modified", 0.0015)
    assert stream.getvalue() == (
        '[2024-03-01 09:30:00 +0000] 192.0.2.1 - "GET /feeds/atom.xml?page=2 HTTP/1.0" 304 1.500\n'
    )
    assert stream.flushed_at == [len(stream.getvalue())]  # flushed at once, line by line


def test_missing_fields_are_dashes_and_defaults(clock: list[float]) -> None:
    stream = _Stream()
    AccessLog(stream).write({}, "200 OK", 0.0)
    assert stream.getvalue() == '[2024-03-01 09:30:00 +0000] - - "-  HTTP/1.1" 200 0.000\n'


def test_hostile_request_lines_stay_one_line(clock: list[float]) -> None:
    stream = _Stream()
    log = AccessLog(stream)
    environ = {
        "REQUEST_METHOD": "GET\r\nX: y" + "A" * 100,
        "PATH_INFO": "/a b\nc\x00d\u00e9" + "z" * 5000,
        "REMOTE_ADDR": "192.0.2.1",
    }
    log.write(environ, "404 NOT FOUND", 0.001)
    line = stream.getvalue()
    assert line.count("\n") == 1
    assert line.endswith(" 404 1.000\n")
    assert '"GET%0D%0AX%3A%20yAAAAAAA /a%20b%0Ac%00d%E9zzz' in line  # method cut at 16
    assert len(line) < 2048 + 200  # the path is cut at 2,048 characters


def test_the_time_stamp_follows_the_clock(clock: list[float]) -> None:
    stream = _Stream()
    log = AccessLog(stream)
    log.write({}, "200 OK", 0.0)
    clock[0] += 0.5
    log.write({}, "200 OK", 0.0)
    clock[0] += 61
    log.write({}, "200 OK", 0.0)
    stamps = [line[:27] for line in stream.getvalue().splitlines()]
    assert stamps == [
        "[2024-03-01 09:30:00 +0000]",
        "[2024-03-01 09:30:00 +0000]",
        "[2024-03-01 09:31:01 +0000]",
    ]
