"""feedsvc's own access log: nginx's combined format with the request's duration, one line per
request, written in batches and never lost on a graceful stop, untrusted fields escaped as nginx
escapes them; GoAccess reads it."""

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
from tests.conftest import T0, need, run_ingest, start_server, stop_server


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
    agent = {"User-Agent": "newsboat/2.30 (Linux x86_64)"}
    first = client.get("/feeds/atom.xml", headers={"X-Forwarded-For": "198.51.100.4", **agent})
    client.get("/feeds/atom.xml", headers=agent)  # from the cache: logged all the same
    client.head("/feeds/atom.xml", headers=agent)
    client.get("/feeds/atom.xml", headers={"If-None-Match": first.headers["ETag"], **agent})
    client.get("/no/such%0Athing?x=%0d%0a", headers={"Referer": "https://example.com/"})
    client.post("/feeds/atom.xml")
    app.extensions["feedsvc.edge"].access_log.flush()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 6
    size = len(first.data)
    assert lines[0].startswith("198.51.100.4 - - [")
    ua = '"-" "newsboat/2.30 (Linux x86_64)" '
    assert f'] "GET /feeds/atom.xml HTTP/1.1" 200 {size} {ua}' in lines[0]
    assert f'] "GET /feeds/atom.xml HTTP/1.1" 200 {size} {ua}' in lines[1]  # the warm path
    assert f'] "HEAD /feeds/atom.xml HTTP/1.1" 200 0 {ua}' in lines[2]  # no body sent
    assert f'] "GET /feeds/atom.xml HTTP/1.1" 304 0 {ua}' in lines[3]
    # One line, as sent, with the body's length from the answer's Content-Length.
    assert '"GET /no/such%0Athing?x=%0d%0a HTTP/1.1" 404 ' in lines[4]
    assert lines[4].split('" 404 ')[1].split()[0].isdigit()
    assert int(lines[4].split('" 404 ')[1].split()[0]) > 0
    assert '"https://example.com/" "Werkzeug/' in lines[4]  # the test client's agent
    assert '"POST /feeds/atom.xml HTTP/1.1" 405 ' in lines[5]


def test_the_line_format(clock: list[float]) -> None:
    stream = _Stream()
    log = AccessLog(stream, batch=1)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/feeds/atom.xml",
        "QUERY_STRING": "page=2",
        "REMOTE_ADDR": "192.0.2.1",
        "SERVER_PROTOCOL": "HTTP/1.0",
        "HTTP_REFERER": "https://news.example.org/",
        "HTTP_USER_AGENT": "NetNewsWire (RSS Reader; https://netnewswire.com/)",
    }
    log.write(environ, "200 OK", 4711, 0.0015)
    assert stream.getvalue() == (
        '192.0.2.1 - - [01/Mar/2024:09:30:00 +0000] "GET /feeds/atom.xml?page=2 HTTP/1.0" 200 4711'
        ' "https://news.example.org/" "NetNewsWire (RSS Reader; https://netnewswire.com/)" 0.002\n'
    )
    assert stream.flushed_at == [len(stream.getvalue())]  # a batch of one: written at once


def test_missing_fields_are_dashes_and_defaults(clock: list[float]) -> None:
    stream = _Stream()
    AccessLog(stream, batch=1).write({}, "200 OK", 0, 0.0)
    assert (
        stream.getvalue()
        == '- - - [01/Mar/2024:09:30:00 +0000] "-  HTTP/1.1" 200 0 "-" "-" 0.000\n'
    )


def test_hostile_request_lines_stay_one_line(clock: list[float]) -> None:
    stream = _Stream()
    log = AccessLog(stream, batch=1)
    environ = {
        "REQUEST_METHOD": "GET\r\nX: y" + "A" * 100,
        "PATH_INFO": "/a b\nc\x00d\u00e9" + "z" * 5000,
        "REMOTE_ADDR": "192.0.2.1",
        # WSGI strings are bytes decoded as latin-1: "é" in UTF-8 arrives as two characters.
        "HTTP_USER_AGENT": 'Evil" "x\r\n\\ \x00\x7f\xc3\xa9' + "B" * 5000,
        "HTTP_REFERER": '" 200 0 "-',
    }
    log.write(environ, "404 NOT FOUND", 12, 0.001)
    line = stream.getvalue()
    assert line.count("\n") == 1
    assert line.endswith(" 0.001\n")
    assert '"GET%0D%0AX%3A%20yAAAAAAA /a%20b%0Ac%00d%E9zzz' in line  # method cut at 16
    # As nginx writes them: quotes, backslashes, control characters and non-ASCII bytes as \xHH.
    assert '"\\x22 200 0 \\x22-" "Evil\\x22 \\x22x\\x0D\\x0A\\x5C \\x00\\x7F\\xC3\\xA9BBB' in line
    assert line.count('"') == 6  # request, referrer and agent: nothing else is quoted
    assert len(line) < 2048 + 1024 + 200  # the path and the agent are cut


def test_a_forwarded_client_cannot_add_fields(clock: list[float]) -> None:
    stream = _Stream()
    AccessLog(stream, batch=1).write({"REMOTE_ADDR": '1.2.3.4 - - [x] "GET'}, "200 OK", 0, 0.0)
    line = stream.getvalue()
    assert line.startswith("1.2.3.4\\x20-\\x20-\\x20[x]\\x20\\x22GET - - [01/Mar/2024:")
    assert line.count('"') == 6


def test_the_month_is_english_whatever_the_locale(clock: list[float]) -> None:
    import locale

    stream = _Stream()
    log = AccessLog(stream, batch=1)
    saved = locale.setlocale(locale.LC_TIME)
    for name in ("de_DE.UTF-8", "fr_FR.UTF-8", "C.UTF-8"):
        try:
            locale.setlocale(locale.LC_TIME, name)
        except locale.Error:
            continue
        try:
            clock[0] += 31 * 86400
            log.write({}, "200 OK", 0, 0.0)
        finally:
            locale.setlocale(locale.LC_TIME, saved)
    months = [line.split("/")[1] for line in stream.getvalue().splitlines()]
    assert all(month in ("Apr", "May", "Jun") for month in months)
    assert months


def test_the_time_stamp_follows_the_clock(clock: list[float]) -> None:
    stream = _Stream()
    log = AccessLog(stream, batch=1)
    log.write({}, "200 OK", 0, 0.0)
    clock[0] += 0.5
    log.write({}, "200 OK", 0, 0.0)
    clock[0] += 61
    log.write({}, "200 OK", 0, 0.0)
    stamps = [line.split("[")[1].split("]")[0] for line in stream.getvalue().splitlines()]
    assert stamps == [
        "01/Mar/2024:09:30:00 +0000",
        "01/Mar/2024:09:30:00 +0000",
        "01/Mar/2024:09:31:01 +0000",
    ]


def test_lines_are_written_in_batches_in_order(clock: list[float]) -> None:
    stream = _Stream()
    log = AccessLog(stream, batch=3)
    for n in range(7):
        log.write({"PATH_INFO": f"/{n}"}, "200 OK", 0, 0.0)
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
    log.write({"PATH_INFO": "/quiet"}, "200 OK", 0, 0.0)
    deadline = time.monotonic() + 10
    while not stream.flushed_at and time.monotonic() < deadline:
        time.sleep(0.01)
    assert '"- /quiet HTTP/1.1" 200 0 "-" "-" ' in stream.getvalue()


def test_queued_lines_are_written_when_the_process_ends(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from feedsvc.web.access_log import AccessLog\n"
        "log = AccessLog(sys.stdout)\n"
        "for n in range(100):\n"
        "    log.write({'PATH_INFO': f'/{n}'}, '200 OK', 0, 0.0)\n"
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
    lines = [line for line in text.splitlines() if '] "GET /' in line]
    assert len(lines) == sent == 201
    assert sum('"GET /no/such/page HTTP/1.1" 404 ' in line for line in lines) == 51


@pytest.mark.external
def test_goaccess_reads_the_log_as_combined(
    seeds: Path, database: Path, catalog: Catalog, tmp_path: Path
) -> None:
    """GoAccess, with its standard COMBINED format, takes every line: hostile ones included."""
    import json

    goaccess = need("goaccess")
    run_ingest(catalog, seeds)
    app = create_app({"SEEDS_DIR": seeds, "DATABASE": database, "TRUST_PROXY": "1"})
    stream = io.StringIO()
    app.extensions["feedsvc.edge"].access_log = AccessLog(stream)
    client = app.test_client()
    sizes = []
    for agent, forwarded, path in (
        ("newsboat/2.30 (Linux x86_64)", "192.0.2.1", "/feeds/atom.xml"),
        ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 120 subscribers; feed-id=x)", "", "/"),
        ('Evil" 200 1 "x\x01\t\\ \u00e9', '203.0.113.9 " [', "/feeds/rss.xml"),
        ("Mozilla/5.0", "198.51.100.7", "/no/such%0Athing?x=%22%0d%0a"),
    ):
        headers = {"User-Agent": agent, "Referer": 'https://e.example/"q"'}
        if forwarded:
            headers["X-Forwarded-For"] = forwarded
        sizes.append(len(client.get(path, headers=headers).data))
    client.head("/feeds/atom.xml")
    app.extensions["feedsvc.edge"].access_log.flush()
    log = tmp_path / "access.log"
    log.write_text(stream.getvalue(), encoding="ascii")  # nothing but ASCII is written
    report = tmp_path / "report.json"
    subprocess.run(
        [goaccess, str(log), "--log-format=COMBINED", "--no-global-config", "-o", str(report)],
        capture_output=True,
        timeout=60,
        check=True,
    )
    general = json.loads(report.read_text())["general"]
    assert general["total_requests"] == general["valid_requests"] == 5
    assert general["failed_requests"] == 0
    assert general["bandwidth"] == sum(sizes)
    panels = json.loads(report.read_text())
    hosts = {item["data"] for item in panels["hosts"]["data"]}
    assert hosts == {"192.0.2.1", "127.0.0.1", "198.51.100.7"}
    requests = sorted((item["data"], item["method"]) for item in panels["requests"]["data"])
    assert requests == [
        ("/", "GET"),
        ("/feeds/atom.xml", "GET"),
        ("/feeds/atom.xml", "HEAD"),
        ("/feeds/rss.xml", "GET"),
    ]
    # GoAccess decodes the target and drops control characters: still one request.
    assert [item["data"] for item in panels["not_found"]["data"]] == ['/no/suchthing?x="']
