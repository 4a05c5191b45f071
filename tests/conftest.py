"""Shared fixtures: every test works in its own temporary folder with a fixed clock."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from feedsvc.catalog import Catalog, open_catalog
from feedsvc.catalog.ingest import IngestReport, ingest
from feedsvc.web.app import create_app

DATA = Path(__file__).parent / "data"
SEED = DATA / "articles" / "seed.txt"
T0 = datetime(2024, 3, 1, 9, 30, 0, tzinfo=UTC)
SITE_URL = "https://news.example.org"


def article_text(
    section: str, title: str, paragraphs: Sequence[str], *, repeat_title: bool = True
) -> str:
    """Return an article in the seed format."""
    blocks = [section, title, *([title] if repeat_title else []), *paragraphs]
    return "\n\n".join(blocks)


def write_article(folder: Path, key: str, section: str, title: str, *paragraphs: str) -> Path:
    """Write one article file and return its path."""
    path = folder / f"{key}.txt"
    path.write_text(article_text(section, title, paragraphs or ("Body.",)), encoding="utf-8")
    return path


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """Return a seeds folder with the real seed and two more articles."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "000_5633a81924f3da7a.txt").write_bytes(SEED.read_bytes())
    write_article(
        folder, "001_markets", "Business", 'Markets & <bonds> "rally"', "Stocks 'rose' & fell <b>."
    )
    write_article(
        folder, "002_comet", "Science", "A comet returns", "Astronomers saw it.", "Twice."
    )
    return folder


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """Return the path of a fresh catalog file."""
    return tmp_path / "instance" / "catalog.sqlite3"


@pytest.fixture
def digested(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the keys of the articles digested (decoded and hashed) from their rows."""
    from feedsvc.export import article_digests

    keys: list[str] = []
    real = article_digests.article

    def counted(record, seq, section_seq, site_title):  # type: ignore[no-untyped-def]
        keys.append(record.key)
        return real(record, seq, section_seq, site_title)

    monkeypatch.setattr(article_digests, "article", counted)
    return keys


@pytest.fixture
def catalog(database: Path) -> Iterator[Catalog]:
    """Return an open, writable catalog."""
    opened = open_catalog(database, create=True)
    yield opened
    opened.close()


def run_ingest(catalog: Catalog, seeds: Path, now: datetime = T0) -> IngestReport:
    """Ingest `seeds` at a fixed moment."""
    return ingest(catalog, seeds, identity="tag:news.example.org,2024-03-01", now=now)


@pytest.fixture
def app(seeds: Path, database: Path, catalog: Catalog) -> Flask:
    """Return an app over the ingested `seeds` folder."""
    run_ingest(catalog, seeds)
    return create_app(
        {"SEEDS_DIR": seeds, "DATABASE": database, "SITE_URL": SITE_URL, "SITE_TITLE": "Test News"}
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client of `app`."""
    return app.test_client()


@pytest.fixture
def runner() -> CliRunner:
    """Return a click runner."""
    return CliRunner()


def feedsvc_command(seeds: Path, database: Path, *args: str) -> list[str]:
    """Return the command line of `python -m feedsvc` over a seeds folder and a catalog."""
    return [
        sys.executable,
        "-m",
        "feedsvc",
        "--seeds-dir",
        str(seeds),
        "--database",
        str(database),
        *args,
    ]


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    """GET a loopback URL; return status, content type and body."""
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers["Content-Type"], response.read()


def start_server(
    seeds: Path, workdir: Path, *, workers: int = 2, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `feedsvc serve` on a free loopback port; return the process and base URL."""
    port = free_port()
    full_env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("FEEDSVC_")},
        "FEEDSVC_SEEDS_DIR": str(seeds),
        "FEEDSVC_DATABASE": str(workdir / "served.sqlite3"),
        "FEEDSVC_RUN_DIR": str(workdir / "run"),
        **(env or {}),
    }
    log_path = workdir / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "feedsvc",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    wait_for_port(port, process, log_path)
    # The port opens before the workers run; SIGTERM to a half-started server is not a test.
    for n in range(1, workers + 1):
        started = f"Started worker-{n}\n"
        if started not in wait_for_log(log_path, started, timeout=30):
            process.kill()
            pytest.fail("workers did not start:\n" + log_path.read_text())
    return process, f"http://127.0.0.1:{port}"


def stop_server(process: subprocess.Popen[bytes]) -> int:
    """Stop a server with SIGTERM (the graceful way) and return its exit code."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=15)
    finally:
        process.kill()


@pytest.fixture
def live_server(seeds: Path, tmp_path: Path) -> Iterator[str]:
    """Serve `seeds` with the real production server; yield its base URL."""
    process, base = start_server(seeds, tmp_path)
    yield base
    assert stop_server(process) == 0


def need(program: str) -> str:
    """Return the path of a program the test needs: skip without it, but fail on CI."""
    path = shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{program} is required on CI (.ci/run installs it)")
        pytest.skip(f"{program} is not installed")
    return path


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait (bounded) until something listens on a loopback port."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"nothing listened on {port}:\n" + log.read_text(errors="replace"))
            time.sleep(0.05)


def wait_for_log(path: Path, text: str, timeout: float = 10) -> str:
    """Return the log once it contains `text` (servers write their logs asynchronously)."""
    deadline = time.monotonic() + timeout
    content = path.read_text(errors="replace")
    while text not in content and time.monotonic() < deadline:
        time.sleep(0.05)
        content = path.read_text(errors="replace")
    return content


@pytest.fixture(autouse=True)
def _fresh_state_on_every_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps in tests ask the catalog's state on every request (serving default: every 100 ms),
    so a test can ingest and at once see the new state."""
    monkeypatch.setenv("FEEDSVC_STATE_CHECK_MS", "0")
    monkeypatch.setenv("FEEDSVC_ACCESS_LOG", "0")  # servers started by tests keep theirs


def start_nginx(folder: Path, site_conf: str, port: int) -> subprocess.Popen[bytes]:
    """Run real nginx in the foreground with `site_conf` in its http block; wait for `port`."""
    nginx = need("nginx")
    (folder / "site.conf").write_text(site_conf, encoding="utf-8")
    (folder / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\npid {folder}/nginx.pid;\nerror_log {folder}/nginx-error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n access_log {folder}/nginx-access.log;\n"
        f" client_body_temp_path {folder}/body;\n proxy_temp_path {folder}/proxy;\n"
        f" include {folder}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    log = folder / "nginx.out"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf")],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    wait_for_port(port, process, log)
    return process


def without_root_powers(command: list[str]) -> list[str]:
    """Return `command` run without root's power to ignore file permissions (if we are root)."""
    if os.geteuid() != 0:
        return command
    drop = "-dac_override,-dac_read_search"
    return [need("setpriv"), "--bounding-set", drop, "--inh-caps", drop, "--", *command]
