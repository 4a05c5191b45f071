"""Crash safety and a damaged catalog: ingest commits atomically; a SIGKILL mid-ingest loses
and duplicates nothing; a corrupt, locked or read-only database gives a clear message."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc.catalog import Catalog, open_catalog
from feedsvc.cli import EXIT_ERROR, cli
from tests.conftest import T0, feedsvc_command, run_ingest, without_root_powers
from tests.corpus import write_corpus

COUNT = 10_000


@pytest.fixture(autouse=True)
def _whole_corpus_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The corpus is written just before each ingest: without a settle time, one ingest
    takes all of it, which is what these crash tests are about."""
    monkeypatch.setenv("FEEDSVC_SETTLE_MS", "0")


def _ingest_command(seeds: Path, database: Path) -> list[str]:
    return feedsvc_command(seeds, database, "ingest")


def _counts(database: Path) -> tuple[int, int, int, int]:
    with sqlite3.connect(database) as db:
        return db.execute(
            "SELECT count(*), count(DISTINCT key), count(DISTINCT entry_id), count(DISTINCT seq) "
            "FROM articles"
        ).fetchone()


@pytest.mark.slow
@pytest.mark.e2e
def test_sigkill_mid_ingest_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    write_corpus(seeds, COUNT)
    database = tmp_path / "db.sqlite3"
    killed = 0
    for delay in (0.4, 0.9, 1.6):
        process = subprocess.Popen(
            _ingest_command(seeds, database), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(delay)  # bounded: the ingest of 10,000 files takes longer than this
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait(timeout=60)
        if database.exists():
            rows = _counts(database)[0]
            assert rows in (0, COUNT), f"a killed ingest left {rows} of {COUNT} articles"
    assert killed >= 1
    result = subprocess.run(
        _ingest_command(seeds, database), capture_output=True, text=True, timeout=300, check=True
    )
    assert _counts(database) == (COUNT, COUNT, COUNT, COUNT)
    again = subprocess.run(
        _ingest_command(seeds, database), capture_output=True, text=True, timeout=300, check=True
    )
    assert f"unchanged {COUNT}" in again.stdout, result.stdout + again.stdout


def test_failed_ingest_rolls_back(catalog: Catalog, seeds: Path) -> None:
    run_ingest(catalog, seeds)
    before = catalog.generation()
    (seeds / "zz_new.txt").write_text("S\n\nNew one\n\nBody.", encoding="utf-8")
    (seeds / "002_comet.txt").unlink()
    connection = catalog.connection
    connection.execute(
        "CREATE TRIGGER fail BEFORE UPDATE ON articles "
        "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
    )
    with pytest.raises(Exception, match="disk on fire"):
        run_ingest(catalog, seeds, now=T0 + timedelta(1))
    connection.execute("DROP TRIGGER fail")
    assert catalog.generation() == before
    assert catalog.count() == 3  # nothing of the failed run is visible
    assert catalog.lookup("a-comet-returns").record is not None


def test_corrupt_database_is_a_clear_message(
    runner: CliRunner, seeds: Path, tmp_path: Path
) -> None:
    database = tmp_path / "corrupt.sqlite3"
    database.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    result = runner.invoke(cli, ["--seeds-dir", str(seeds), "--database", str(database), "ingest"])
    assert result.exit_code == EXIT_ERROR
    assert "corrupt.sqlite3" in result.stderr
    assert "Traceback" not in result.output + result.stderr


@pytest.mark.slow
def test_locked_database_is_a_clear_message(runner: CliRunner, seeds: Path, tmp_path: Path) -> None:
    database = tmp_path / "locked.sqlite3"
    assert (
        runner.invoke(
            cli, ["--seeds-dir", str(seeds), "--database", str(database), "ingest"]
        ).exit_code
        == 0
    )
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        (seeds / "zz_more.txt").write_text("S\n\nMore\n\nBody.", encoding="utf-8")
        result = runner.invoke(
            cli, ["--seeds-dir", str(seeds), "--database", str(database), "ingest"]
        )
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == EXIT_ERROR
    assert "database is locked (another process is writing it" in result.stderr


def test_read_only_database_is_a_clear_message(seeds: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    database = folder / "catalog.sqlite3"
    subprocess.run(_ingest_command(seeds, database), check=True, capture_output=True, timeout=60)
    (seeds / "zz_more.txt").write_text("S\n\nMore\n\nBody.", encoding="utf-8")
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)
    command = without_root_powers(_ingest_command(seeds, database))
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    finally:
        folder.chmod(0o755)
    assert result.returncode == EXIT_ERROR, result.stdout + result.stderr
    assert "catalog.sqlite3" in result.stderr
    assert "permissions" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_corrupt_catalog_clearly(seeds: Path, tmp_path: Path) -> None:
    database = tmp_path / "bad.sqlite3"
    database.write_bytes(b"not a database at all" * 64)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "feedsvc",
            "--seeds-dir",
            str(seeds),
            "--database",
            str(database),
            "serve",
            "--port",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == EXIT_ERROR
    assert "bad.sqlite3: file is not a database" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_catalog_file_always_has_its_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process killed while it creates the catalog leaves no file without tables behind."""
    from feedsvc.catalog import schema

    database = tmp_path / "instance" / "feedsvc.sqlite3"

    def killed(*_args: object) -> None:
        raise KeyboardInterrupt  # as far as the file is concerned, the process died here

    monkeypatch.setattr(schema, "_migrate", killed)
    with pytest.raises(KeyboardInterrupt):
        open_catalog(database, create=True)
    assert not database.exists()
    assert list(database.parent.iterdir()) == []  # no temporary file left either
    monkeypatch.undo()
    catalog = open_catalog(database, create=True)
    try:
        assert catalog.meta("identity") is None
        tables = {row[0] for row in catalog.connection.execute("SELECT name FROM sqlite_master")}
        assert "articles" in tables
    finally:
        catalog.close()
