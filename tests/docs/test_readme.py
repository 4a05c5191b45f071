"""README.md is a front door: short, every command in it run here, every link leading somewhere."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
QUICKSTART = ROOT / "docs" / "quickstart.md"
INSTALL = "python3 -m venv .venv && .venv/bin/pip install ."
SERVE = f"{INSTALL} && .venv/bin/feedsvc serve"
TESTS = (
    "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && "
    '.venv/bin/pytest -m "not bench" && .venv/bin/pytest -m bench'
)
FAST_LOOP = '.venv/bin/pytest -m "not slow and not external and not bench"'
MANUAL = ".venv/bin/pip install -e '.[docs]' && .venv/bin/mkdocs serve"


def commands(path: Path) -> list[str]:
    """Return the commands of a page's ```sh blocks, continuation lines joined."""
    blocks = re.findall(r"```sh\n(.*?)```", path.read_text(encoding="utf-8"), re.DOTALL)
    joined = [block.replace("\\\n", " ") for block in blocks]
    return [" ".join(line.split()) for block in joined for line in block.splitlines() if line]


def test_readme_is_a_front_door() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 150


def test_every_readme_command_is_one_the_tests_run() -> None:
    # Each is proven below or by CI: a new command in README needs its own proof here.
    assert commands(README) == [SERVE, TESTS, FAST_LOOP, MANUAL]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # As written, in a subshell: under `set -e` a failure inside a bare && list is ignored
    # (CI once passed with a failing test); a failing subshell stops the script.
    assert f"({TESTS})" in ci.splitlines()
    assert "set -euxo pipefail" in ci.splitlines()


def test_ci_installs_the_manuals_extra_and_builds_it_strictly() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dev = project["optional-dependencies"]["dev"]
    assert any(r.startswith("feedsvc[") and "docs" in r for r in dev), "dev must pull docs"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/mkdocs build --strict" in ci


def test_every_readme_link_leads_to_a_file() -> None:
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    local = [target for target in targets if "://" not in target]
    assert local
    for target in local:
        assert (ROOT / target).is_file(), target


@pytest.mark.slow
def test_the_fast_loop_selects_tests_and_leaves_the_slow_ones_out() -> None:
    words = shlex.split(FAST_LOOP)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *words[1:], "--collect-only", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTEST_ADDOPTS": "-p no:cacheprovider"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-1]  # "798/934 tests collected (136 deselected)"
    found = re.search(r"(\d+)/(\d+) tests? collected \((\d+) deselected\)", last)
    assert found, last
    selected, deselected = int(found[1]), int(found[3])
    assert selected > 100, last
    assert deselected > 10, last


def _in_own_network(script: str, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run a shell script in a network namespace of its own (its own loopback, so port 8000
    is free whatever else runs on this machine)."""
    unshare, ip = need("unshare"), need("ip")
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True, timeout=30, check=False)
    if probe.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"unshare -n fails on CI: {probe.stderr!r}")
        pytest.skip("no network namespaces here (needs root)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    return subprocess.run(
        [unshare, "-n", "sh", "-c", f"{shlex.quote(ip)} link set lo up && {script}"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# Wait for a URL to answer 200 (bounded), print the body's start.
_FETCH = """
import sys, time, urllib.request
deadline = time.monotonic() + 60
while True:
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
            assert r.status == 200
            print(sys.argv[1], r.headers["Content-Type"], r.read(300).decode(errors="replace"))
            break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.2)
"""


def _venv_beside(folder: Path) -> None:
    """Put this checkout's virtual environment at `folder/.venv`: what the install step makes."""
    (folder / ".venv").symlink_to(Path(sys.prefix))


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.external
def test_the_readme_serve_command_serves_the_bundled_seeds(tmp_path: Path) -> None:
    # The install step is what .ci/run does before anything (and needs the package index); the
    # rest runs as written, in a copy of the checkout's seeds, stopped with Ctrl-C (SIGINT).
    assert SERVE.startswith(INSTALL + " && ")
    serve = SERVE.removeprefix(INSTALL + " && ")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    _venv_beside(tmp_path)
    (tmp_path / "fetch.py").write_text(_FETCH)
    python = shlex.quote(sys.executable)
    script = (
        f"{serve} > serve.log 2>&1 & pid=$!; "
        f"{python} fetch.py http://127.0.0.1:8000/ && "
        f"{python} fetch.py http://127.0.0.1:8000/feeds/atom.xml && "
        f"{python} fetch.py http://127.0.0.1:8000/feeds/; status=$?; "
        'kill -INT "$pid"; wait "$pid"; echo "serve exited $?"; cat serve.log; exit $status'
    )
    done = _in_own_network(script, tmp_path, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "http://127.0.0.1:8000/feeds/atom.xml application/atom+xml" in done.stdout
    assert "serve exited 0" in done.stdout, done.stdout


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.external
def test_the_quickstart_commands_publish_a_folder(tmp_path: Path) -> None:
    steps = commands(QUICKSTART)
    install, folder, write, check, serve, export, build = steps
    assert install == INSTALL
    _venv_beside(tmp_path)
    (tmp_path / "fetch.py").write_text(_FETCH)
    python = shlex.quote(sys.executable)
    script = " && ".join(
        [
            folder,
            write,
            check,
            f"( {serve} > serve.log 2>&1 & echo $! > serve.pid )",
            f"{python} fetch.py http://127.0.0.1:8000/subscribe/",
            'kill -INT "$(cat serve.pid)"',
            export,
            build,
        ]
    )
    done = _in_own_network(script, tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "The Comet Gazette" in done.stdout
    atom = (tmp_path / "public" / "feeds" / "atom.xml").read_text(encoding="utf-8")
    assert "<title>A comet returns</title>" in atom
    assert "https://news.example.org/articles/a-comet-returns/" in atom
