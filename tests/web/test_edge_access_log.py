"""feedsvc's own access log: one line per request, written in batches and never lost on a
graceful stop, control characters kept encoded."""

from __future__ import annotations

import http.client
import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from feedsvc.catalog import Catalog
from feedsvc.web.access_log import AccessLog
from feedsvc.web.app import create_app
from tests.conftest import T0, run_ingest, start_server, stop_server


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
    assert stream.getvalue() == ""  # queued, not yet written: a batch is 64 lines
    app.extensions["feedsvc.edge"].access_log.flush()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4
    assert '198.51.100.4 - "GET /feeds/atom.xml HTTP/1.1" 200 ' in lines[0]
    assert '"GET /feeds/atom.xml HTTP/1.1" 200 ' in lines[1]
    assert '"GET /no/such%0Athing?x=%0d%0a HTTP/1.1" 404 ' in lines[2]  # one line, as sent
    assert '"POST /feeds/atom.xml HTTP/1.1" 405 ' in lines[3]


def test_the_line_format(clock: list[float]) -> None:
    stream = _Stream()
    log = AccessLog(stream, batch=1)
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
    assert stream.flushed_at == [len(stream.getvalue())]  # a batch of one: written at once


def test_missing_fields_are_dashes_and_defaults(clock: list[float]) -> None:
    stream = _Stream()
    AccessLog(stream, batch=1).write({}, "200 OK", 0.0)
    assert stream.getvalue() == '[2024-03-01 09:30:00 +0000] - - "-  HTTP/1.1" 200 0.000\n'


def test_hostile_request_lines_stay_one_line(clock: list[float]) -> None:
    stream = _Stream()
    log = AccessLog(stream, batch=1)
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
    log = AccessLog(stream, batch=1)
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


def test_lines_are_written_in_batches_in_order(clock: list[float]) -> None:
    stream = _Stream()
    log = AccessLog(stream, batch=3)
    for n in range(7):
        log.write({"PATH_INFO": f"/{n}"}, "200 OK", 0.0)
    # The third and the sixth request wrote their batch (the background writer may have
    # written the seventh line meanwhile): at most three writes for seven lines.
    assert stream.getvalue().count("\n") >= 6
    assert 2 <= len(stream.flushed_at) <= 3
    log.flush()
    paths = [line.split('"')[1].split()[1] for line in stream.getvalue().splitlines()]
    assert paths == [f"/{n}" for n in range(7)]
    writes = len(stream.flushed_at)
    assert writes == 3
    log.flush()
    assert len(stream.flushed_at) == writes  # nothing queued: nothing written


def test_a_quiet_servers_lines_appear_without_a_full_batch() -> None:
    stream = _Stream()
    log = AccessLog(stream)  # the default batch: lines wait for the background writer
    log.write({"PATH_INFO": "/quiet"}, "200 OK", 0.0)
    deadline = time.monotonic() + 10
    while not stream.flushed_at and time.monotonic() < deadline:
        time.sleep(0.01)
    assert '"- /quiet HTTP/1.1" 200 ' in stream.getvalue()


def test_queued_lines_are_written_when_the_process_ends(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from feedsvc.web.access_log import AccessLog\n"
        "log = AccessLog(sys.stdout)\n"
        "for n in range(100):\n"
        "    log.write({'PATH_INFO': f'/{n}'}, '200 OK', 0.0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    paths = [line.split('"')[1].split()[1] for line in done.stdout.splitlines()]
    assert paths == [f"/{n}" for n in range(100)]


@pytest.mark.slow
def test_sigterm_loses_no_line(seeds: Path, tmp_path: Path) -> None:
    """`feedsvc serve` stopped with SIGTERM after N requests has written all N lines."""
    process, base = start_server(seeds, tmp_path, env={"FEEDSVC_ACCESS_LOG": "1"})
    port = int(base.rsplit(":", 1)[1])
    paths = ["/feeds/atom.xml", "/", "/no/such/page", "/feeds/rss.xml"]
    sent = 0
    try:
        for _ in range(3):  # a few connections: both workers answer some
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            for n in range(67):  # not a whole number of batches
                connection.request("GET", paths[n % len(paths)], headers={"X-N": str(n)})
                response = connection.getresponse()
                response.read()
                sent += 1
            connection.close()
    finally:
        code = stop_server(process)
    assert code == 0
    text = (tmp_path / f"server-{port}.log").read_text(errors="replace")
    lines = [line for line in text.splitlines() if ' - "GET /' in line]
    assert len(lines) == sent == 201
    assert sum('"GET /no/such/page HTTP/1.1" 404 ' in line for line in lines) == 51
