"""Publishing benchmarks: builds, deploys to a loopback S3 server and continuous publishing.

    python -m benchmarks.publishing --articles 10000

Everything runs the real command line (`python -m feedsvc ...` in subprocesses) on a fresh
catalog, card folder and export, on a corpus from `benchmarks.corpus` whose files are dated a
minute back. The S3 API is moto's standalone server in its own process on loopback
(`--builds-only` measures the builds alone, without moto). It measures:

1. `feedsvc build OUT` the first time (first ingest, every card drawn), then again with no
   change, after one new article, after one edited article and after one removed article
   (FEEDSVC_SETTLE_MS=0), each with the URLs it rendered and the files it wrote;
2. `feedsvc deploy s3://BUCKET --endpoint-url URL`: first deploy, no-change deploy and the
   deploy of the one new article;
3. `feedsvc watch --deploy s3://BUCKET` (default settle time): seconds from a new file written
   in the seeds folder to its article page in the bucket (head_object every 50 ms).

Each figure is printed with its target (issue 13, at 10,000 articles) as met or missed; for a
miss the same command is run again under cProfile and its 10 top cumulative lines go into the
JSON. Every step is bounded in time.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks import hugo
from benchmarks.corpus import write_corpus
from benchmarks.load import process_memory_mib, tree
from feedsvc.articles.text_format import slug_for

ROOT = Path(__file__).resolve().parent.parent
SITE_URL = "https://news.example.org"
BUCKET = "feedsvc-bench"
STEP_TIMEOUT = 900.0  # any one build or deploy (--step-timeout: 100,000 articles need more)
DEPLOY_TIMEOUT = 900.0  # the first deploy (tens of thousands of objects at 10,000 articles)
WATCH_TIMEOUT = 60.0  # a file written -> its object in the bucket
POLL_S = 0.05

# (key, label, bound in seconds or None for informational figures)
FIGURES: tuple[tuple[str, str, float | None], ...] = (
    ("build_cold", "build, first time (first ingest, cards drawn)", 30.0),
    ("build_nochange", "build again, no change", 2.0),
    ("build_new", "build after one new article", 3.0),
    ("build_edit", "build after one edited article", 3.0),
    ("build_remove", "build after one removed article", 3.0),
    ("deploy_first", "deploy, first time", None),
    ("deploy_nochange", "deploy again, no change", 2.0),
    ("deploy_new", "deploy of one new article", None),
    ("watch", "watch --deploy: file written -> object in bucket", 5.0),
)


def log(message: str) -> None:
    """Say what is running (on stderr, so stdout stays the table and JSON)."""
    print(f"[publishing] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PeakMemory:
    """The largest memory a command's process tree (it and its workers) held at once: the sum
    of their proportional set sizes (shared pages counted once), sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.mib = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.2):
            total = 0.0
            try:
                pids = tree(self.pid)
            except OSError:  # the command, or one of its workers, ended meanwhile
                if not os.path.exists(f"/proc/{self.pid}"):
                    return
                continue
            for pid in pids:
                try:
                    total += process_memory_mib(pid).get("pss", 0.0)
                except OSError:
                    continue  # ended meanwhile
            self.mib = max(self.mib, round(total, 1))

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


# What `feedsvc build` says it did: "... 12 files written, ...; 9 URLs rendered (...)".
_BUILT = re.compile(r"(\d+) files written, (\d+) unchanged, (\d+) removed.*; (\d+) URLs rendered")


def build_counts(summary: str) -> dict[str, int]:
    """Return the files written, unchanged and removed and the URLs rendered a build reports."""
    found = _BUILT.search(summary)
    if found is None:
        return {}
    written, unchanged, removed, rendered = (int(n) for n in found.groups())
    return {"written": written, "unchanged": unchanged, "removed": removed, "rendered": rendered}


def _base_env() -> dict[str, str]:
    """The environment without any FEEDSVC_ or AWS_ setting, plus test credentials only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEEDSVC_", "AWS_"))}
    return env | {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class Moto:
    """moto's standalone S3 server in its own process on a loopback port."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        code = (
            "import signal\n"
            "from moto.server import ThreadedMotoServer\n"
            f"server = ThreadedMotoServer(ip_address='127.0.0.1', port={self.port},"
            " verbose=False)\n"
            "server.start()\n"
            "signal.sigwait({signal.SIGTERM, signal.SIGINT})\n"
            "server.stop()\n"
        )
        with log_path.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code],
                env=_base_env(),
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto did not start: {log_path.read_text()}") from None
                time.sleep(0.05)

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's test credentials
            config=Config(retries={"max_attempts": 2}, max_pool_connections=4),
        )

    def stop(self) -> None:
        _terminate(self.process)


def _terminate(process: subprocess.Popen[bytes], wait: float = 30) -> int | None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(wait)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    return process.returncode


def _exists(client: Any, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        client.head_object(Bucket=BUCKET, Key=key)
    except ClientError:
        return False
    return True


def _count_objects(client: Any) -> int:
    total = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        total += int(page.get("KeyCount", 0))
    return total


def _top10(profile: Path) -> list[str]:
    """The 10 top cumulative lines of a cProfile output file."""
    if not profile.exists():
        return ["(no profile written)"]
    text = io.StringIO()
    pstats.Stats(str(profile), stream=text).sort_stats("cumulative").print_stats(60)
    lines = text.getvalue().splitlines()
    start = next((n for n, line in enumerate(lines) if "ncalls" in line), 0)
    # The frames every command shares (runpy, click, the entry point) say nothing: skip them.
    wrappers = ("runpy", "click/", "builtins.exec", "__main__.py", "cli/__init__.py")
    kept = [
        line.rstrip()
        for line in lines[start + 1 :]
        if line.strip() and not any(w in line for w in wrappers)
    ]
    return [lines[start].rstrip(), *kept[:10]]


class Bench:
    """One run: a corpus, a catalog, cards, an export, a bucket."""

    def __init__(self, work: Path, count: int, moto: Moto | None) -> None:
        self.work = work
        self.count = count
        self.moto = moto
        self.seeds = work / "seeds"
        self.out = work / "site"
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env = _base_env() | {
            "FEEDSVC_SEEDS_DIR": str(self.seeds),
            "FEEDSVC_DATABASE": str(work / "catalog.sqlite3"),
            "FEEDSVC_CARD_DIR": str(work / "cards"),
            "FEEDSVC_EXPORT_DIR": str(self.out),
            "FEEDSVC_RUN_DIR": str(work / "run"),
            "FEEDSVC_SITE_URL": SITE_URL,
        }
        self.added = 0

    def write_corpus(self) -> None:
        log(f"writing a corpus of {self.count} articles")
        write_corpus(self.seeds, self.count)
        back = time.time() - 60  # a minute back: settled, whatever the settle time
        for path in self.seeds.iterdir():
            os.utime(path, (back, back))

    def new_article(self, label: str) -> str:
        """Write one new article file; return the bucket key of its page."""
        self.added += 1
        title = f"Benchmark fresh article {label} {self.added} of {self.count}"
        text = "\n\n".join(
            ["Science", title, title, "A new article, written while the benchmark runs."]
        )
        (self.seeds / f"{self.count + self.added:06d}_fresh.txt").write_text(text, encoding="utf-8")
        return f"articles/{slug_for(title)}/index.html"

    def remove_article(self, n: int) -> None:
        (self.seeds / f"{n:06d}_bench.txt").unlink()

    def edit_article(self, n: int) -> None:
        path = self.seeds / f"{n:06d}_bench.txt"
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f" One sentence added by the benchmark ({time.time():.3f}).")

    def command(self, *args: str, profile: Path | None = None) -> list[str]:
        prefix = [sys.executable]
        if profile is not None:
            prefix += ["-m", "cProfile", "-o", str(profile)]
        return [*prefix, "-m", "feedsvc", *args]

    def run(
        self,
        name: str,
        args: list[str],
        *,
        settle_zero: bool = True,
        timeout: float | None = None,
        profile: Path | None = None,
    ) -> dict[str, Any]:
        """Run one feedsvc command; return its wall seconds and last output line."""
        timeout = STEP_TIMEOUT if timeout is None else timeout
        env = self.env | ({"FEEDSVC_SETTLE_MS": "0"} if settle_zero else {})
        log(f"{name}: feedsvc {' '.join(args)}" + (" (under cProfile)" if profile else ""))
        started = time.perf_counter()
        with subprocess.Popen(
            self.command(*args, profile=profile),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        ) as process:
            peak = PeakMemory(process.pid)
            try:
                stdout, stderr = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                return {
                    "seconds": None,
                    "finished": False,
                    "error": f"did not finish within {timeout:.0f} s",
                }
            finally:
                peak.stop()
        seconds = time.perf_counter() - started
        lines = (stdout + stderr).strip().splitlines()
        summary = stdout.strip().splitlines() or lines or [""]
        figures: dict[str, Any] = {
            "seconds": seconds,
            "finished": process.returncode == 0,
            "summary": summary[-1],
            "peak_mib": peak.mib,
        }
        if process.returncode != 0:
            figures["error"] = f"exit {process.returncode}: {' | '.join(lines[-5:])}"
        return figures

    def build(self, name: str, profile: Path | None = None) -> dict[str, Any]:
        figures = self.run(name, ["build", str(self.out)], profile=profile)
        return figures | build_counts(str(figures.get("summary", "")))

    def deploy(
        self, name: str, timeout: float | None = None, profile: Path | None = None
    ) -> dict[str, Any]:
        assert self.moto is not None
        args = ["deploy", f"s3://{BUCKET}", "--endpoint-url", self.moto.url]
        return self.run(name, args, timeout=timeout, profile=profile)

    def watch(self, client: Any, profile: Path | None = None) -> dict[str, Any]:
        """Start `feedsvc watch --deploy`; after its first deploy, time one new file's trip."""
        tag = "profiled" if profile else "timed"
        log_path = self.logs / f"watch-{tag}.log"
        assert self.moto is not None
        env = self.env | {"FEEDSVC_S3_ENDPOINT": self.moto.url}
        log(f"watch --deploy s3://{BUCKET} ({tag})")
        with log_path.open("wb") as output:
            process = subprocess.Popen(
                self.command("watch", "--deploy", f"s3://{BUCKET}", profile=profile),
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        figures: dict[str, Any] = {"seconds": None, "finished": False, "settle_ms": 1000}
        try:
            started = time.monotonic()
            deadline = started + STEP_TIMEOUT
            while "published to" not in log_path.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    figures["error"] = "no first deploy: " + log_path.read_text()[-500:]
                    return figures
                time.sleep(0.1)
            figures["first_deploy_s"] = time.monotonic() - started
            key = self.new_article(f"watched {tag}")
            written = time.monotonic()
            while time.monotonic() - written < WATCH_TIMEOUT:
                if _exists(client, key):
                    figures["seconds"] = time.monotonic() - written
                    figures["finished"] = True
                    break
                time.sleep(POLL_S)
            else:
                figures["error"] = f"{key} not in the bucket after {WATCH_TIMEOUT:.0f} s"
            figures["key"] = key
        finally:
            code = _terminate(process)
            figures["exit_code"] = code
            text = log_path.read_text(errors="replace").strip().splitlines()
            figures["last_log"] = [line for line in text if "published to" in line][-2:]
        return figures


def _row(key: str, label: str, bound: float | None, figures: dict[str, Any]) -> dict[str, Any]:
    value = figures.get("seconds")
    met = None if bound is None else (value is not None and value <= bound)
    return {
        "key": key,
        "figure": label,
        "seconds": None if value is None else round(value, 3),
        "target": None if bound is None else f"<= {bound:g} s",
        "met": met,
        "rendered": figures.get("rendered"),
        "written": figures.get("written"),
        "note": figures.get("summary") or figures.get("error") or "",
        "peak_mib": figures.get("peak_mib"),
    }


def measure(
    work: Path,
    count: int,
    *,
    deploy_timeout: float = DEPLOY_TIMEOUT,
    profile: bool = True,
    builds_only: bool = False,
) -> dict[str, Any]:
    """Run every step on `count` articles in `work` (emptied first); return the figures.

    With `builds_only` no S3 server is started and the deploy and watch steps are skipped."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started = time.perf_counter()
    moto = None if builds_only else Moto(work / "moto.log")
    try:
        bench = Bench(work, count, moto)
        bench.write_corpus()
        client = None
        if moto is not None:
            client = moto.client()
            client.create_bucket(Bucket=BUCKET)
        steps: dict[str, dict[str, Any]] = {}
        redo: dict[str, Any] = {}

        steps["build_cold"] = bench.build("cold build")
        steps["build_nochange"] = bench.build("no-change build")
        redo["build_nochange"] = lambda p: bench.build("no-change build", p)
        first: dict[str, Any] = {"seconds": None, "finished": False, "error": "not measured"}
        if client is not None:
            first = bench.deploy("first deploy", timeout=deploy_timeout)
            first["objects"] = _count_objects(client)
        steps["deploy_first"] = first
        if first["finished"]:
            steps["deploy_nochange"] = bench.deploy("no-change deploy")
            redo["deploy_nochange"] = lambda p: bench.deploy("no-change deploy", profile=p)
        bench.new_article("built")
        steps["build_new"] = bench.build("build, one new article")

        def new_then_build(p: Path) -> dict[str, Any]:
            bench.new_article("profiled")
            return bench.build("build, one new article", p)

        redo["build_new"] = new_then_build
        if first["finished"]:
            steps["deploy_new"] = bench.deploy("deploy, one new article")
        middle = count // 2
        bench.edit_article(middle)
        steps["build_edit"] = bench.build("build, one edited article")

        def edit_then_build(p: Path) -> dict[str, Any]:
            bench.edit_article(middle + 1)
            return bench.build("build, one edited article", p)

        redo["build_edit"] = edit_then_build
        # An article from the first third: its list pages and archive blocks are old ones.
        bench.remove_article(count // 3)
        steps["build_remove"] = bench.build("build, one removed article")

        def remove_then_build(p: Path) -> dict[str, Any]:
            bench.remove_article(count // 3 + 1)
            return bench.build("build, one removed article", p)

        redo["build_remove"] = remove_then_build
        if first["finished"] and client is not None:
            # Bring the bucket up to date with the edit first, so the watcher starts level.
            steps["deploy_edit"] = bench.deploy("deploy, one edited article")
            steps["watch"] = bench.watch(client)
            redo["watch"] = lambda p: bench.watch(client, p)
        else:
            why = "--builds-only" if builds_only else "first deploy did not finish"
            note = {"seconds": None, "error": f"{why}: not measured"}
            for key in ("deploy_nochange", "deploy_new", "watch"):
                steps[key] = dict(note)

        rows = [_row(key, label, bound, steps[key]) for key, label, bound in FIGURES]
        profiles: dict[str, Any] = {}
        if profile:
            for row in rows:
                if row["met"] is False and row["key"] in redo:
                    path = work / f"{row['key']}.prof"
                    again = redo[row["key"]](path)
                    profiles[row["key"]] = {
                        "seconds_under_profile": again.get("seconds"),
                        "note": "main process only: workers and threads are not profiled",
                        "top10_cumulative": _top10(path),
                    }
                elif row["met"] is False:
                    profiles[row["key"]] = {
                        "note": "not profiled: the step cannot be run again as it was (cold)"
                        if row["key"] == "build_cold"
                        else "not profiled"
                    }
        if profile and "build_cold" in profiles:
            # A cold build again, in a folder of its own, to profile it.
            cold = Bench(work / "cold-profile", count, moto)
            cold.write_corpus()
            path = work / "build_cold.prof"
            again = cold.build("cold build", path)
            profiles["build_cold"] = {
                "seconds_under_profile": again.get("seconds"),
                "note": "main process only: build workers are not profiled",
                "top10_cumulative": _top10(path),
            }
        return {
            "articles": count,
            "cores": os.cpu_count(),
            "figures": rows,
            "steps": steps,
            "profiles": profiles,
            "seconds": time.perf_counter() - started,
        }
    finally:
        if moto is not None:
            moto.stop()


def table(data: dict[str, Any]) -> str:
    """Return the figures as a Markdown table."""
    lines = [
        f"Publishing, {data['articles']:,} articles:",
        "",
        "| figure | seconds | target | met | URLs rendered | files written | peak MiB | note |",
        "|---|---:|---|---|---:|---:|---:|---|",
    ]
    for row in data["figures"]:
        seconds = "not reached" if row["seconds"] is None else f"{row['seconds']:.2f}"
        met = {None: "(informational)", True: "met", False: "missed"}[row["met"]]
        note = str(row["note"]).replace("|", "/")
        if row["key"] == "deploy_first" and "objects" in data["steps"]["deploy_first"]:
            note = f"{data['steps']['deploy_first']['objects']:,} objects in the bucket; " + note
        counts = [
            "-" if row.get(name) is None else f"{row[name]:,}" for name in ("rendered", "written")
        ]
        peak = "-" if row.get("peak_mib") is None else f"{row['peak_mib']:,.0f}"
        lines.append(
            f"| {row['figure']} | {seconds} | {row['target'] or '-'} | {met} | "
            f"{counts[0]} | {counts[1]} | {peak} | {note} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the publishing benchmarks; print a table and the JSON; exit 0."""
    global STEP_TIMEOUT
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "feedsvc-bench-publishing",
        help="scratch folder (emptied first)",
    )
    parser.add_argument(
        "--deploy-timeout",
        type=float,
        default=DEPLOY_TIMEOUT,
        help="seconds the first deploy may take before it is stopped and reported unfinished",
    )
    parser.add_argument(
        "--step-timeout",
        type=float,
        default=STEP_TIMEOUT,
        help="seconds any one build or deploy may take before it is stopped",
    )
    parser.add_argument("--no-profile", action="store_true", help="do not profile misses")
    parser.add_argument(
        "--builds-only", action="store_true", help="measure the builds only (no S3, no watch)"
    )
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    parser.add_argument(
        "--no-hugo", action="store_true", help="do not build the same articles with Hugo"
    )
    args = parser.parse_args(argv)
    STEP_TIMEOUT = args.step_timeout
    data = measure(
        args.work.resolve(),
        args.articles,
        deploy_timeout=args.deploy_timeout,
        profile=not args.no_profile,
        builds_only=args.builds_only,
    )
    if not args.no_hugo:
        # The speed anchor: Hugo's full build of the same articles, in the same run.
        log("hugo: the same articles")
        data["hugo"] = hugo.measure(args.work.resolve() / "hugo", args.articles)
    text = json.dumps(data, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(table(data))
    if "hugo" in data:
        seconds = {row["key"]: row["seconds"] for row in data["figures"]}
        mine = {name: seconds.get(f"build_{name}") for name in ("cold", "edit", "new", "remove")}
        print()
        print(hugo.compare(data["hugo"], mine))
    print()
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
