"""Ingest with dates from git against ingest without, on the same articles, in one run.

    python -m benchmarks.git_dates --articles 10000 --commits 100000

A corpus is committed to a real repository (one commit per article, in order, then edits
until the history holds --commits commits), checked out, and ingested cold into an empty
catalog twice in fresh processes: with FEEDSVC_GIT_DATES on (the history read in one pass)
and off. Prints the seconds of each, their ratio against the target (at most 2x) and the
time to read the history alone.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.corpus import corpus, log

TARGET_RATIO = 2.0
_EPOCH = 1_700_000_000


def repository(work: Path, articles: int, commits: int) -> Path:
    """Return a work tree whose `articles/` holds the corpus, with `commits` commits."""
    top = work / f"git-{articles}-{commits}"
    if (top / ".complete").exists():
        return top / "articles"
    subprocess.run(["rm", "-rf", str(top)], check=True)
    top.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=top, check=True)
    files = sorted(corpus(work, articles).glob("*.txt"))
    log(f"committing {articles} articles in {commits} commits (git fast-import)")
    importer = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=top, stdin=subprocess.PIPE)
    assert importer.stdin is not None
    for number in range(max(commits, len(files))):
        path = files[number % len(files)]
        body = path.read_bytes()
        if number >= len(files):
            body += f"\n\nCorrection {number // len(files)}.".encode()
        when = _EPOCH + number * 60
        importer.stdin.write(
            b"commit refs/heads/main\n"
            + f"author E <e@x> {when} +0000\ncommitter E <e@x> {when} +0000\n".encode()
            + b"data 1\nc\n"
            + f"M 100644 inline articles/{path.name}\ndata {len(body)}\n".encode()
            + body
            + b"\n\n"
        )
    importer.stdin.close()
    if importer.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=top, check=True)
    (top / ".complete").write_text("ok")  # untracked, outside articles/
    return top / "articles"


def _ingest(seeds: Path, database: Path, *, git: bool) -> dict[str, Any]:
    from benchmarks.run import ingest_once

    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return ingest_once(seeds, database, *(["--git-dates"] if git else []))


def measure(work: Path, articles: int, commits: int, rounds: int = 3) -> dict[str, Any]:
    """Return the cold-ingest seconds with and without git dates (medians of `rounds`)."""
    seeds = repository(work, articles, commits)
    with_git, without = [], []
    for _ in range(rounds):
        without.append(_ingest(seeds, work / "git-off.sqlite3", git=False)["seconds"])
        with_git.append(_ingest(seeds, work / "git-on.sqlite3", git=True)["seconds"])
    from feedsvc.articles.history import read_history

    started = time.perf_counter()
    history = read_history(seeds)
    read_s = time.perf_counter() - started
    median_on, median_off = sorted(with_git)[rounds // 2], sorted(without)[rounds // 2]
    ratio = median_on / median_off
    return {
        "articles": articles,
        "commits": commits,
        "dated_by_git": len(history) if history is not None else 0,
        "ingest_git_s": median_on,
        "ingest_no_git_s": median_off,
        "history_read_s": read_s,
        "ratio": ratio,
        "target": TARGET_RATIO,
        "met": ratio <= TARGET_RATIO,
    }


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "feedsvc-bench")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    result = measure(args.work.resolve(), args.articles, args.commits, args.rounds)
    print(
        f"cold ingest of {result['articles']} articles, {result['commits']} commits: "
        f"with git dates {result['ingest_git_s']:.2f} s, without {result['ingest_no_git_s']:.2f} s"
        f" = {result['ratio']:.2f}x (target <= {TARGET_RATIO:.0f}x: "
        f"{'met' if result['met'] else 'missed'}); the history alone read in "
        f"{result['history_read_s']:.2f} s"
    )


if __name__ == "__main__":
    main()
