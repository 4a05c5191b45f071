"""The command line through click's runner: exit codes and what it prints."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from feedsvc.cli import EXIT_ERROR, EXIT_PROBLEMS, cli


def test_ingest_prints_the_report(runner: CliRunner, seeds: Path, database: Path) -> None:
    args = ["--seeds-dir", str(seeds), "--database", str(database), "ingest"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "added 3, changed 0, unchanged 0, removed 0, renamed 0, rejected 0" in first.output
    second = runner.invoke(cli, args)
    assert "added 0, changed 0, unchanged 3" in second.output


def test_ingest_reads_environment_variables(runner: CliRunner, seeds: Path, database: Path) -> None:
    result = runner.invoke(
        cli, ["ingest"], env={"FEEDSVC_SEEDS_DIR": str(seeds), "FEEDSVC_DATABASE": str(database)}
    )
    assert result.exit_code == 0, result.output
    assert database.exists()


def test_ingest_reports_rejected_files(runner: CliRunner, seeds: Path, database: Path) -> None:
    (seeds / "bad.txt").write_bytes(b"Only a section")
    result = runner.invoke(cli, ["--seeds-dir", str(seeds), "--database", str(database), "ingest"])
    assert result.exit_code == 0
    assert "rejected 1" in result.output
    assert "bad.txt: has a section but no title [no-title]" in result.stderr


def test_check_passes_on_good_files(runner: CliRunner, seeds: Path) -> None:
    result = runner.invoke(cli, ["--seeds-dir", str(seeds), "check"])
    assert result.exit_code == 0
    assert "3 files checked, 0 with problems" in result.output


def test_check_lists_problems_and_fails(runner: CliRunner, seeds: Path) -> None:
    (seeds / "empty.txt").write_bytes(b"")
    (seeds / "latin1.txt").write_bytes("Sport\n\nCaf\xe9\n\nBody".encode("latin-1"))
    result = runner.invoke(cli, ["--seeds-dir", str(seeds), "check"])
    assert result.exit_code == EXIT_PROBLEMS
    assert f"{seeds / 'empty.txt'}: is empty [empty]" in result.output
    assert "latin1.txt: is not valid UTF-8 (bad byte at offset 10) [not-utf8]" in result.output
    assert "5 files checked, 2 with problems" in result.output


def test_missing_seeds_folder_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["--seeds-dir", str(tmp_path / "nope"), "check"])
    assert result.exit_code == EXIT_ERROR
    assert "nope" in result.stderr
    assert "Traceback" not in result.output


def test_bad_setting_is_a_clear_error(runner: CliRunner, seeds: Path) -> None:
    result = runner.invoke(cli, ["--site-url", "not a url", "--seeds-dir", str(seeds), "check"])
    assert result.exit_code == EXIT_ERROR
    assert "FEEDSVC_SITE_URL" in result.stderr


def test_options_read_no_undocumented_environment_variables(runner: CliRunner) -> None:
    # Settings come from the one settings table; a command's own options only from its flags.
    result = runner.invoke(cli, ["nginx-conf"], env={"FEEDSVC_NGINX_CONF_LISTEN": "8123"})
    assert result.exit_code == 0
    assert "8123" not in result.output
    assert "listen 80" in result.output
