"""Deploy speed at N articles, side by side: what a deploy costs when nothing, one article or a
stream of single changes is to be sent, to a bucket (moto's standalone server over HTTP on
loopback, as the tests use) and to a folder.

    python -m benchmarks.deploy_speed --articles 10000

The export is made up (benchmarks.publishing measures real builds): each article's five files
(page, embed card, two oEmbed documents, preview card) plus list pages, archive blocks and
feeds, about 5.4 files an article as a real export has, with a real manifest. So the figures
are the deploy's alone, whatever the export side costs. Manual deploys run the real command
line (`feedsvc deploy --no-build`) in their own process; continuous publishing calls deploy()
in one process, as the writer does. Each figure says how many objects were sent and whether
the target was listed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.publishing import BUCKET, ROOT, SITE_URL, Moto, _base_env, _count_objects
from feedsvc.export.manifest import NAME, Entry, Manifest

HTML = "text/html; charset=utf-8"
_KINDS = (  # an article's files: name, content type, Cache-Control
    ("index.html", HTML, "public, max-age=300"),
    ("embed/index.html", HTML, "public, max-age=300"),
    ("oembed.json", "application/json+oembed", "public, max-age=300"),
    ("oembed.xml", "text/xml+oembed; charset=utf-8", "public, max-age=300"),
    ("card.1.png", "image/png", "public, max-age=31536000, immutable"),
)
FEED = "application/atom+xml; charset=utf-8"


def _entry(path: str, body: bytes, content_type: str, cache: str) -> Entry:
    md5 = hashlib.md5(body, usedforsecurity=False).hexdigest()
    headers = (("Cache-Control", cache), ("Content-Type", content_type))
    return Entry(path, md5, len(body), md5, content_type, headers)


class Export:
    """A made-up export of `count` articles, and edits to it."""

    def __init__(self, root: Path, count: int) -> None:
        self.root = root
        self.files: dict[str, Entry] = {}
        self.edits = 0
        for n in range(count):
            for name, content_type, cache in _KINDS:
                self._write(f"articles/story-{n:06d}/{name}", content_type, cache)
        for n in range(count * 2 // 5):  # list pages and archive blocks
            self._write(f"sections/s{n % 8}/page/{n}/index.html", HTML, "public, max-age=300")
        for name in ("feeds/atom.xml", "index.html", "sitemap.xml", "robots.txt"):
            self._write(name, FEED if name.endswith(".xml") else HTML, "public, max-age=300")
        self.save()

    def _write(self, name: str, content_type: str, cache: str, extra: str = "") -> None:
        body = f"<p>{name} {extra}</p>\n".encode() * 8
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        url = "/" + name.removesuffix("index.html")
        self.files[name] = _entry(url, body, content_type, cache)

    def save(self) -> None:
        (self.root / NAME).write_bytes(Manifest("bench", dict(self.files)).to_bytes())

    def edit(self, article: int, also: int = 5) -> int:
        """Change one article's page and embed card and `also` list pages; return the count."""
        self.edits += 1
        names = [f"articles/story-{article:06d}/index.html"]
        names += [f"articles/story-{article:06d}/embed/index.html", "feeds/atom.xml"]
        names += [f"sections/s{n % 8}/page/{n}/index.html" for n in range(also)]
        for name in names:
            entry = self.files[name]
            self._write(name, entry.content_type, dict(entry.headers)["Cache-Control"], str(self))
        self.save()
        return len(names)

    def __str__(self) -> str:
        return f"edit {self.edits}"


def _cli(work: Path, export: Path, target: str, *extra: str, moto: Moto | None) -> dict[str, Any]:
    env = _base_env() | {
        "FEEDSVC_EXPORT_DIR": str(export),
        "FEEDSVC_DATABASE": str(work / "catalog.sqlite3"),
        "FEEDSVC_SEEDS_DIR": str(work / "seeds"),
        "FEEDSVC_SITE_URL": SITE_URL,
        "FEEDSVC_RUN_DIR": str(work / "run"),
    }
    args = ["deploy", "--no-build", target, *extra]
    if moto is not None:
        args += ["--endpoint-url", moto.url]
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "feedsvc", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1800,
        check=False,
    )
    seconds = time.perf_counter() - started
    lines = (result.stdout + result.stderr).strip().splitlines() or [""]
    return {"seconds": round(seconds, 3), "exit": result.returncode, "said": lines[-1]}


def _continuous(export: Export, target: str, moto: Moto | None, changes: int) -> dict[str, Any]:
    """Deploy `changes` single edits one after the other in this process, as the writer does."""
    from feedsvc.deploy import deploy

    endpoint = moto.url if moto is not None else None
    deploy(export.root, target, endpoint_url=endpoint, share=False)  # level, and warm
    times, sent, verified = [], [], []
    for n in range(changes):
        export.edit(n * 7)
        started = time.perf_counter()
        report = deploy(export.root, target, endpoint_url=endpoint, share=False)
        times.append(time.perf_counter() - started)
        sent.append(report.sent)
        verified.append(report.verified)
    return {
        "seconds": round(max(times), 3),
        "median": round(sorted(times)[len(times) // 2], 3),
        "objects": max(sent),
        "listed": any(verified),
    }


def measure(work: Path, count: int, changes: int = 5) -> dict[str, Any]:
    """Make the export, then measure each deploy; return the figures."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    os.environ.update({k: v for k, v in _base_env().items() if k.startswith("AWS_")})
    made = time.perf_counter()
    export = Export(work / "site", count)
    figures: dict[str, Any] = {
        "articles": count,
        "files": len(export.files),
        "made_in": round(time.perf_counter() - made, 1),
    }
    moto = Moto(work / "moto.log")
    try:
        moto.client().create_bucket(Bucket=BUCKET)
        for kind, target, server in (
            ("s3", f"s3://{BUCKET}", moto),
            ("folder", str(work / "www"), None),
        ):
            steps: dict[str, Any] = {}

            def cli(*extra: str, target: str = target, server: Moto | None = server) -> Any:
                return _cli(work, export.root, target, *extra, moto=server)

            steps["first"] = cli()
            if server is not None:
                steps["first"]["objects"] = _count_objects(server.client())
            steps["nochange"] = cli()
            steps["nochange_verify"] = cli("--verify")
            edited = export.edit(3)
            steps["edit"] = cli() | {"objects": edited}
            steps["continuous"] = _continuous(export, target, server, changes)
            figures[kind] = steps
    finally:
        moto.stop()
    return figures


def table(data: dict[str, Any]) -> str:
    """Return the figures as a markdown table."""
    lines = [
        f"Deploy, {data['articles']:,} articles ({data['files']:,} files):",
        "",
        "| target | figure | seconds | objects | note |",
        "|---|---|---:|---:|---|",
    ]
    for kind in ("s3", "folder"):
        for key, label in (
            ("first", "first deploy"),
            ("nochange", "deploy, nothing to send"),
            ("nochange_verify", "deploy --verify, nothing to send"),
            ("edit", "deploy of one edited article"),
            ("continuous", "continuous publishing, one change (slowest)"),
        ):
            row = data[kind][key]
            note = row.get("said", "")
            if key == "continuous":
                note = f"median {row['median']} s; target listed: {row['listed']}"
            objects = row.get("objects", "")
            lines.append(f"| {kind} | {label} | {row['seconds']:.2f} | {objects} | {note} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the deploy benchmark; print a table and the JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--changes", type=int, default=5, help="single changes published")
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "feedsvc-bench-deploy"
    )
    args = parser.parse_args(argv)
    data = measure(args.work.resolve(), args.articles, args.changes)
    print(table(data))
    print()
    print(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
