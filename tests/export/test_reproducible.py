"""Reproducible exports: a publisher's repository built from fresh clones gives the same bytes.

Static hosts and CI runners build from a fresh clone, with no catalog, on whatever day the build
runs. The articles' dates come from their git history, so two clones built on different days
(under faketime), in other folders, time zones, locales and hash seeds, must export exactly the
same files. The builds run the steps of the recipes in docs/recipes/ as they are written.
"""

from __future__ import annotations

import difflib
import gzip
import locale
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree

from feedsvc.config.build_clock import source_date
from feedsvc.errors import ConfigError
from feedsvc.support.compress import gzip_bytes
from feedsvc.support.dates import human_date
from tests.conftest import article_text, need

RECIPES = Path(__file__).resolve().parent.parent.parent / "docs" / "recipes"
WORKFLOW = RECIPES / "github-actions-publish.yml"
NETLIFY = RECIPES / "netlify.toml"
ATOM = "{http://www.w3.org/2005/Atom}"
STEP_TIMEOUT = 120  # seconds for one step; a build of this repository takes a few
# Commit dates as after a rebase, two hours after the author dates: the dates readers see are
# the author's (when the article was written), which rebases and cherry-picks keep.
COMMITTED_LATER = timedelta(hours=2)

TALKS = "Talks resume in Geneva"  # no front matter; added, then edited
MARKETS = "Markets rally"  # front matter date: it wins over git
COMET = "A comet returns"  # no front matter; added, then renamed
TALKS_ADDED = datetime(2024, 1, 15, 10, 0, tzinfo=UTC)
TALKS_EDITED = datetime(2024, 2, 2, 14, 15, tzinfo=UTC)
MARKETS_DATE = datetime(2023, 12, 1, 8, 0, tzinfo=UTC)
COMET_ADDED = datetime(2024, 1, 18, 8, 0, tzinfo=UTC)
FIRST_DAY = "2024-01-15"  # of the first commit: the day in a publication id minted from git


def _git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run git in `repo` with no user or system configuration; return its output."""
    done = subprocess.run(
        [need("git"), *args],
        cwd=repo,
        env={**_quiet_git(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"git {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def _quiet_git() -> dict[str, str]:
    return {
        **_clean_environ(),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Jane Doe",
        "GIT_AUTHOR_EMAIL": "jane@news.example.org",
        "GIT_COMMITTER_NAME": "Newsroom Bot",
        "GIT_COMMITTER_EMAIL": "bot@news.example.org",
    }


def _clean_environ() -> dict[str, str]:
    """Return this process's environment without what could change a build or git's output."""
    dropped = ("FEEDSVC_", "GIT_", "LC_", "SOURCE_DATE_EPOCH", "TZ", "LANG", "PYTHONHASHSEED")
    return {name: value for name, value in os.environ.items() if not name.startswith(dropped)}


def _commit(repo: Path, message: str, authored: str) -> None:
    """Commit everything in `repo` as written at `authored` (ISO 8601 with an offset)."""
    committed = datetime.fromisoformat(authored) + COMMITTED_LATER
    _git(repo, "add", "-A")
    _git(
        repo,
        "commit",
        "-q",
        "-m",
        message,
        env={"GIT_AUTHOR_DATE": authored, "GIT_COMMITTER_DATE": committed.isoformat()},
    )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def publisher_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a publisher's repository: articles/ and the workflow, with a dated history."""
    repo = tmp_path_factory.mktemp("publisher") / "news"
    repo.mkdir()
    _git(repo, "-c", "init.defaultBranch=main", "init", "-q")
    articles = repo / "articles"
    _write(repo / "README.md", "The newsroom's articles.\n")
    _write(repo / ".github" / "workflows" / "publish.yml", WORKFLOW.read_text(encoding="utf-8"))
    _write(articles / "001_talks.txt", article_text("World", TALKS, ["Delegates met."]))
    _write(
        articles / "002_markets.txt",
        f"---\ndate: {MARKETS_DATE.isoformat()}\n---\n"
        + article_text("Business", MARKETS, ["Stocks rose."]),
    )
    _commit(repo, "First articles", TALKS_ADDED.isoformat())
    _write(articles / "003_comet.txt", article_text("Science", COMET, ["It is back."]))
    _commit(repo, "A comet", COMET_ADDED.isoformat())
    _git(repo, "mv", "articles/003_comet.txt", "articles/003_comet_returns.txt")
    _commit(repo, "Rename the comet's file", "2024-01-20T12:30:00+01:00")
    _write(
        articles / "001_talks.txt",
        article_text("World", TALKS, ["Delegates met.", "They agreed on a second round."]),
    )
    _commit(repo, "More on the talks", "2024-02-02T09:15:00-05:00")
    # Two articles in one commit share a date: whatever orders them must do it the same way on
    # every machine.
    _write(articles / "005_storm.txt", article_text("Weather", "A storm nears", ["Winds."]))
    _write(articles / "006_quake.txt", article_text("Science", "A quake is felt", ["Mild."]))
    _commit(repo, "Two at once", "2024-02-10T18:00:00+00:00")
    _write(repo / "README.md", "The newsroom's articles, one file each.\n")
    _commit(repo, "A commit that changes no article", "2024-02-12T07:00:00+00:00")
    return repo


def _clone(repo: Path, into: Path, *options: str) -> Path:
    into.parent.mkdir(parents=True, exist_ok=True)
    _git(into.parent, "clone", "-q", *options, repo.as_uri(), str(into))
    return into


def _fake_day(days: int) -> str:
    """Return a faketime timestamp `days` after tomorrow.

    Later than the real clock on purpose: the clone's files are written now, and a file changed
    "in the future" is one still being written, which a build waits for."""
    moment = datetime.now(UTC) + timedelta(days=1 + days, hours=3 * days)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _environ(
    tmp: Path, *, tz: str = "UTC", lang: str = "C.UTF-8", seed: str = "0"
) -> dict[str, str]:
    """Return the environment of a CI runner: no catalog, feedsvc on PATH, the given locale."""
    home = tmp / "home"
    home.mkdir(parents=True, exist_ok=True)
    return {
        **_quiet_git(),
        "HOME": str(home),
        "PATH": f"{_feedsvc_folder(tmp)}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
        "TZ": tz,
        "LANG": lang,
        "LC_ALL": lang,
        "PYTHONHASHSEED": seed,
        # A fresh catalog outside the clone, as on a runner that kept nothing.
        "FEEDSVC_DATABASE": str(tmp / "catalog" / "feedsvc.sqlite3"),
    }


def _feedsvc_folder(tmp: Path) -> Path:
    """Return a folder whose `feedsvc` is this feedsvc: the console script installed beside
    this Python, or a stand-in that runs `python -m feedsvc`."""
    script = Path(sys.executable).parent / "feedsvc"
    if script.is_file():
        return script.parent
    folder = tmp / "bin"
    folder.mkdir(exist_ok=True)
    stand_in = folder / "feedsvc"
    stand_in.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m feedsvc "$@"\n')
    stand_in.chmod(0o755)
    return folder


def _shell(
    script: str, cwd: Path, env: Mapping[str, str], day: str
) -> subprocess.CompletedProcess[str]:
    """Run `script` the way GitHub Actions runs a `run:` step, under faketime at `day`."""
    return subprocess.run(
        [need("faketime"), day, "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )


def _plain(values: Mapping[str, Any] | None) -> dict[str, str]:
    """Return the variables of an `env:` block that need no GitHub expression (secrets)."""
    return {name: str(value) for name, value in (values or {}).items() if "${{" not in str(value)}


def _workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return loaded


def _settings_of_workflow() -> dict[str, str]:
    workflow = _workflow()
    (job,) = workflow["jobs"].values()
    return {**_plain(workflow.get("env")), **_plain(job.get("env"))}


_INSTALL = re.compile(r"^\s*(python3? -m )?pip install\b")
_DEPLOY = re.compile(r"^(\s*)feedsvc deploy\b.*$", re.MULTILINE)


def run_workflow(clone: Path, out: Path, env: Mapping[str, str], day: str) -> None:
    """Run the workflow's `run:` steps in `clone`: feedsvc is already installed here, and the
    deploy to a bucket becomes a build into `out` (what the deploy builds and then sends)."""
    workflow = _workflow()
    (job,) = workflow["jobs"].values()
    github_env = clone.parent / f"{clone.name}.github-env"
    github_env.write_text("")
    deploys = 0
    for step in job["steps"]:
        if "run" not in step:
            continue  # actions: the test made the clone and the Python
        lines = [line for line in step["run"].splitlines() if not _INSTALL.match(line)]
        script, found = _DEPLOY.subn(rf"\1feedsvc build {shlex.quote(str(out))}", "\n".join(lines))
        deploys += found
        if not script.strip():
            continue
        exported = {
            name: value
            for name, _, value in (
                line.partition("=") for line in github_env.read_text().split("\n")
            )
            if value
        }
        step_env = {
            **env,
            **_settings_of_workflow(),
            **exported,
            **_plain(step.get("env")),
            "GITHUB_ENV": str(github_env),
        }
        done = _shell(script, clone, step_env, day)
        if done.returncode != 0:
            pytest.fail(f"step {step.get('name', script)!r} failed:\n{done.stdout}{done.stderr}")
    assert deploys == 1, "the workflow must deploy once"


def _files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def assert_same_export(first: Path, second: Path) -> None:
    """Assert two exports hold the same files with the same bytes; show the first difference."""
    one, two = _files(first), _files(second)
    only = sorted(set(one) ^ set(two))
    different = [name for name in one if name in two and one[name] != two[name]]
    if not only and not different:
        return
    # The site feed says most about a difference (its dates, ids, links); else the first page.
    text = [n for n in different if not n.endswith((".png", ".ico", ".gz", ".br", ".json"))]
    shown = "feeds/atom.xml" if "feeds/atom.xml" in different else (text or [""])[0]
    diff = difflib.unified_diff(
        [line[:200] for line in one.get(shown, b"").decode("utf-8", "replace").splitlines()],
        [line[:200] for line in two.get(shown, b"").decode("utf-8", "replace").splitlines()],
        f"{first.name}/{shown}",
        f"{second.name}/{shown}",
        lineterm="",
        n=1,
    )
    pytest.fail(
        f"{len(only)} files in one export only, {len(different)} of the others differ:\n"
        + "\n".join([*only[:10], *different[:10], *list(diff)[:40]])
    )


def atom_entries(export: Path) -> dict[str, dict[str, str]]:
    """Return the site Atom feed's entries by title: id, published, updated."""
    root = etree.parse(str(export / "feeds" / "atom.xml")).getroot()
    entries = {}
    for entry in root.iter(f"{ATOM}entry"):
        entries[entry.findtext(f"{ATOM}title") or ""] = {
            name: entry.findtext(f"{ATOM}{name}") or "" for name in ("id", "published", "updated")
        }
    return entries


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.slow
def test_the_workflow_gives_the_same_bytes_from_two_clones_on_two_days(
    publisher_repo: Path, tmp_path: Path
) -> None:
    checkout = next(s for s in _workflow()["jobs"]["publish"]["steps"] if "checkout" in str(s))
    assert checkout["with"]["fetch-depth"] == 0  # the dates need the whole history
    out = tmp_path / "site"  # one path for both: the nginx config names the folder it serves
    exports: list[Path] = []
    for name, days in (("a", 0), ("b", 3)):
        workdir = tmp_path / name / "runner" / "work"
        clone = _clone(publisher_repo, workdir / "news")
        run_workflow(clone, out, _environ(workdir), _fake_day(days))
        exports.append(out.rename(tmp_path / f"export-{name}"))
    assert_same_export(*exports)

    entries = atom_entries(exports[0])
    assert _when(entries[TALKS]["published"]) == TALKS_ADDED  # the author date of its commit
    assert _when(entries[TALKS]["updated"]) == TALKS_EDITED  # of the last commit changing it
    assert _when(entries[COMET]["published"]) == COMET_ADDED  # followed through the rename
    assert _when(entries[COMET]["updated"]) == COMET_ADDED  # a rename changes no content
    assert _when(entries[MARKETS]["published"]) == MARKETS_DATE  # front matter first


@pytest.mark.slow
def test_time_zone_locale_hash_seed_and_workers_change_no_byte(
    publisher_repo: Path, tmp_path: Path
) -> None:
    settings = _settings_of_workflow()
    # The publication id minted from the history (the host and the first commit's day), and no
    # SOURCE_DATE_EPOCH: the git dates alone make the build reproducible.
    del settings["FEEDSVC_PUBLICATION_ID"]
    out = tmp_path / "site"
    runs = [
        ("a", 0, "UTC", "C.UTF-8", "0", "1", "work"),
        # A POSIX zone rule (no zoneinfo needed): UTC-3:30, with summer time. Turkish, whose
        # dotted and dotless i trip case mappings that follow the locale; where it is not
        # installed, the C library keeps the C locale.
        ("b", 3, "NST3:30NDT,M3.2.0,M11.1.0", "tr_TR.UTF-8", "4242", "3", "a/much/deeper/work"),
    ]
    exports: list[Path] = []
    for name, days, tz, lang, seed, jobs, folder in runs:
        workdir = tmp_path / name / folder
        clone = _clone(publisher_repo, workdir / "news")
        env = {**_environ(workdir, tz=tz, lang=lang, seed=seed), **settings}
        done = _shell(
            f"feedsvc build {shlex.quote(str(out))} --gzip --brotli --jobs {jobs}",
            clone,
            env,
            _fake_day(days),
        )
        assert done.returncode == 0, done.stdout + done.stderr
        exports.append(out.rename(tmp_path / f"export-{name}"))
    assert_same_export(*exports)

    for entry in atom_entries(exports[0]).values():
        assert entry["id"].startswith(f"tag:news.example.org,{FIRST_DAY}:"), entry["id"]
    assert (
        gzip.decompress((exports[0] / "feeds" / "atom.xml.gz").read_bytes())
        == (exports[0] / "feeds" / "atom.xml").read_bytes()
    )


def _netlify_command(out: Path) -> str:
    """Return netlify.toml's build command as this test runs it: feedsvc is installed here, and
    the site goes to `out`."""
    config = tomllib.loads(NETLIFY.read_text(encoding="utf-8"))
    assert config["build"]["publish"] == "public"
    commands = [c for c in config["build"]["command"].split(" && ") if not _INSTALL.match(c)]
    command = " && ".join(commands)
    assert "feedsvc build public" in command
    return command.replace("feedsvc build public", f"feedsvc build {shlex.quote(str(out))}")


@pytest.mark.slow
def test_netlify_recipe_unshallows_a_shallow_clone_and_matches_a_full_one(
    publisher_repo: Path, tmp_path: Path
) -> None:
    config = tomllib.loads(NETLIFY.read_text(encoding="utf-8"))
    settings = {
        name: value
        for name, value in config["build"]["environment"].items()
        if name.startswith("FEEDSVC_")
    }
    assert settings == _settings_of_workflow()  # one site, whichever host builds it
    out = tmp_path / "site"
    exports: list[Path] = []
    for name, days, options in (("shallow", 0, ("--depth", "1")), ("full", 2, ())):
        workdir = tmp_path / name
        clone = _clone(publisher_repo, workdir / "news", *options)
        env = {**_environ(workdir), **settings}
        if options:
            # Dating articles by a shallow history would date them all by its one commit.
            refused = _shell(f"feedsvc build {shlex.quote(str(out))}", clone, env, _fake_day(days))
            assert refused.returncode == 2, refused.stdout + refused.stderr
            # One line saying what to do, never a traceback.
            assert "Traceback" not in refused.stderr, refused.stderr
            reason = refused.stderr.strip().splitlines()[-1]
            assert reason.startswith("feedsvc: "), refused.stderr
            assert "shallow" in reason, refused.stderr
        done = _shell(_netlify_command(out), clone, env, _fake_day(days))
        assert done.returncode == 0, done.stdout + done.stderr
        exports.append(out.rename(tmp_path / f"export-{name}"))
    assert_same_export(*exports)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("0", datetime(1970, 1, 1, tzinfo=UTC)),
        ("1707588000", datetime(2024, 2, 10, 18, 0, tzinfo=UTC)),
        ("253402300799", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_source_date_epoch_is_whole_seconds_in_utc(
    value: str | None, expected: datetime | None
) -> None:
    assert source_date({} if value is None else {"SOURCE_DATE_EPOCH": value}) == expected


@pytest.mark.parametrize(
    "value", ["1.5", " 12", "12\n", "+12", "-1", "1_000", "\uff11\uff12", "12abc", "253402300800"]
)
def test_a_malformed_source_date_epoch_is_refused_in_one_line(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        source_date({"SOURCE_DATE_EPOCH": value})
    assert caught.value.name == "SOURCE_DATE_EPOCH"
    assert "\n" not in str(caught.value)


def test_source_date_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert source_date() == datetime(1970, 1, 2, tzinfo=UTC)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert source_date() is None


def test_gzip_bytes_name_no_time_and_no_operating_system() -> None:
    body = b"<feed>" + b"entry " * 500 + b"</feed>"
    packed = gzip_bytes(body)
    assert packed[:4] == b"\x1f\x8b\x08\x00"  # gzip, deflate, no name or comment
    assert packed[4:8] == b"\0\0\0\0"  # MTIME: none
    assert packed[9] == 255  # OS: unknown, whichever system compressed it
    assert gzip.decompress(packed) == body


@pytest.fixture
def foreign_time_locale() -> Iterator[None]:
    """Set LC_TIME to a non-English locale where one is installed (as a host application
    might), and restore it."""
    saved = locale.setlocale(locale.LC_TIME)
    for name in ("fr_FR.UTF-8", "de_DE.UTF-8", "tr_TR.UTF-8", "es_ES.UTF-8"):
        try:
            locale.setlocale(locale.LC_TIME, name)
            break
        except locale.Error:
            continue
    try:
        yield
    finally:
        locale.setlocale(locale.LC_TIME, saved)


@pytest.mark.usefixtures("foreign_time_locale")
def test_dates_for_people_are_english_whatever_the_process_locale() -> None:
    months = [human_date(datetime(2024, month, 1, tzinfo=UTC)) for month in range(1, 13)]
    assert months[0] == "1 January 2024"
    assert months[2] == "1 March 2024"
    assert months[11] == "1 December 2024"
