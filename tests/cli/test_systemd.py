"""`feedsvc systemd-unit`: a unit systemd accepts, whose command and environment really serve."""

from __future__ import annotations

import contextlib
import html
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc.cli import cli
from tests.conftest import free_port, get, need, wait_for_log, wait_for_port

# Quotes, a per cent sign and a dollar: each means something to systemd's unit parser.
TITLE = 'The "Harbour" Times: 100% $HOME news'


def _unit(runner: CliRunner, seeds: Path, tmp_path: Path, *args: str) -> str:
    env = {
        "FEEDSVC_SEEDS_DIR": str(seeds),
        "FEEDSVC_DATABASE": str(tmp_path / "catalog" / "feedsvc.sqlite3"),
        "FEEDSVC_EXPORT_DIR": str(tmp_path / "export"),
        "FEEDSVC_SITE_TITLE": TITLE,
    }
    result = runner.invoke(cli, ["systemd-unit", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _entries(unit: str, key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in unit.splitlines() if line.startswith(f"{key}=")]


def _words(value: str, *, command: bool) -> list[str]:
    """Split a value as systemd does for these quoted words (specifiers, then variables)."""
    words = [word.replace("%%", "%") for word in shlex.split(value)]
    return [word.replace("$$", "$") for word in words] if command else words


@pytest.mark.external
def test_systemd_analyze_verify_accepts_the_unit(
    runner: CliRunner, seeds: Path, tmp_path: Path
) -> None:
    analyze = need("systemd-analyze")
    unit = tmp_path / "feedsvc.service"
    unit.write_text(_unit(runner, seeds, tmp_path, "--workers", "2"))
    done = subprocess.run(
        [analyze, "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # verify exits 0 on unknown keys and bad values too: only silence means it read every line.
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_the_unit_restarts_on_failure_hardened_and_writes_only_the_catalog_and_export(
    runner: CliRunner, seeds: Path, tmp_path: Path
) -> None:
    unit = _unit(runner, seeds, tmp_path)
    assert _entries(unit, "Restart") == ["on-failure"]
    assert _entries(unit, "User") == ["feedsvc"]
    assert not _entries(unit, "ExecReload")  # serve reads its settings once
    assert _entries(unit, "ProtectSystem") == ["strict"]
    for key in ("NoNewPrivileges", "PrivateTmp", "PrivateDevices", "RestrictSUIDSGID"):
        assert _entries(unit, key) == ["yes"], key
    written = {
        w for value in _entries(unit, "ReadWritePaths") for w in _words(value, command=False)
    }
    assert written == {str(tmp_path / "catalog"), str(tmp_path / "export")}
    assert _entries(unit, "RuntimeDirectory") == ["feedsvc"]
    assert '"FEEDSVC_RUN_DIR=/run/feedsvc"' in _entries(unit, "Environment")


def test_a_folder_deploy_target_is_writable_and_an_export_in_the_catalog_folder_adds_nothing(
    runner: CliRunner, seeds: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        cli,
        ["systemd-unit"],
        env={
            "FEEDSVC_SEEDS_DIR": str(seeds),
            "FEEDSVC_DATABASE": str(tmp_path / "data" / "feedsvc.sqlite3"),
            "FEEDSVC_EXPORT_DIR": str(tmp_path / "data" / "site"),
            "FEEDSVC_DEPLOY": str(tmp_path / "www"),
        },
    )
    written = [_words(v, command=False) for v in _entries(result.output, "ReadWritePaths")]
    assert written == [[str(tmp_path / "data")], [str(tmp_path / "www")]]


def _running(group: int) -> list[int]:
    """Return the processes of a process group that still run (zombies have ended)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == group and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.e2e
def test_the_units_command_and_environment_serve_and_stop_on_sigterm(
    runner: CliRunner, seeds: Path, tmp_path: Path
) -> None:
    port = free_port()
    unit = _unit(runner, seeds, tmp_path, "--port", str(port), "--workers", "1")
    environ = dict(
        value.split("=", 1)
        for entry in _entries(unit, "Environment")
        for value in _words(entry, command=False)
    )
    assert environ["FEEDSVC_SITE_TITLE"] == TITLE
    environ["FEEDSVC_RUN_DIR"] = str(tmp_path / "run")  # systemd's RuntimeDirectory
    (workdir,) = _entries(unit, "WorkingDirectory")
    Path(workdir).mkdir(parents=True)
    (command,) = _entries(unit, "ExecStart")
    log_path = tmp_path / "unit.log"
    base = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            _words(command, command=True),
            env={**base, **environ},
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_port(port, process, log_path)
        wait_for_log(log_path, "Started worker-1\n", timeout=30)
        status, _, body = get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200, body
        _, _, page = get(f"http://127.0.0.1:{port}/")
        assert f"<title>{TITLE}</title>" in html.unescape(page.decode())
        # KillMode=mixed: SIGTERM reaches the main process alone, which stops the rest.
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log_path.read_text()
        # No worker and no writer is left running (multiprocessing's resource tracker ends
        # once its parent has: bounded wait).
        deadline = time.monotonic() + 10
        while _running(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(process.pid)
    finally:
        if process.poll() is None:
            process.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
