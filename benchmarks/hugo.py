"""Hugo on the same articles: the speed anchor the publishing figures are read against.

    python -m benchmarks.hugo --articles 10000

The feedsvc corpus (seed format: section, title, paragraphs) is turned into a Hugo site: one
Markdown file per article under content/<section>/ with its title, date and section as a tag,
and small layouts that give what feedsvc publishes: a page per article, paged lists (home,
sections, tags) and RSS for home, sections and tags. `hugo` (Debian's) builds it cold into an
empty folder, then again after one edited and one new article (Hugo always rebuilds whole), and
the seconds, files and peak memory are printed. `compare()` puts feedsvc's figures beside
Hugo's full build as ratios, with the targets of the speed issue.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.corpus import write_corpus

HUGO_TIMEOUT = 900.0  # seconds: a build that takes longer is reported, not waited for
START = datetime(2024, 3, 1, tzinfo=UTC)

_LAYOUTS = {
    "_default/baseof.html": (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>{{ .Title }}</title>"
        "{{ range .AlternativeOutputFormats }}<link rel={{ .Rel }} type={{ .MediaType.Type }} "
        'href={{ .Permalink }}>{{ end }}</head><body>{{ block "main" . }}{{ end }}</body></html>'
    ),
    "_default/single.html": (
        '{{ define "main" }}<article><h1>{{ .Title }}</h1><time>{{ .Date.Format "2006-01-02" }}'
        "</time>{{ .Content }}</article>{{ end }}"
    ),
    "_default/list.html": (
        '{{ define "main" }}<h1>{{ .Title }}</h1>{{ $p := .Paginate .Pages }}'
        '{{ range $p.Pages }}<h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>'
        "<p>{{ .Summary }}</p>{{ end }}{{ with $p.Prev }}<a href={{ .URL }}>newer</a>{{ end }}"
        "{{ with $p.Next }}<a href={{ .URL }}>older</a>{{ end }}{{ end }}"
    ),
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def hugo_site(corpus: Path, site: Path) -> Path:
    """Write a Hugo site holding every article of `corpus`; return it."""
    shutil.rmtree(site, ignore_errors=True)
    (site / "content").mkdir(parents=True)
    (site / "hugo.toml").write_text(
        'baseURL = "https://news.example.org/"\ntitle = "Bench News"\npaginate = 20\n'
        'disableKinds = []\n[taxonomies]\ntag = "tags"\n'
        '[outputs]\nhome = ["HTML", "RSS"]\nsection = ["HTML", "RSS"]\n'
        'taxonomy = ["HTML", "RSS"]\nterm = ["HTML", "RSS"]\n',
        encoding="utf-8",
    )
    for name, text in _LAYOUTS.items():
        path = site / "layouts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for number, source in enumerate(sorted(corpus.glob("*.txt"))):
        write_page(site, source, START + timedelta(minutes=number))
    return site


def write_page(site: Path, source: Path, date: datetime) -> None:
    """Write one article of the seed format as a Hugo page."""
    section, title, _repeat, *paragraphs = source.read_text(encoding="utf-8").split("\n\n")
    folder = site / "content" / _slug(section)
    folder.mkdir(parents=True, exist_ok=True)
    front = json.dumps({"title": title, "date": date.isoformat(), "tags": [section]})
    (folder / f"{source.stem}.md").write_text(front + "\n\n" + "\n\n".join(paragraphs))


def build(site: Path) -> dict[str, Any]:
    """Run one full `hugo` build into an empty folder; return seconds, files and peak memory."""
    out = site / "public"
    shutil.rmtree(out, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        ["hugo", "--quiet", "--source", str(site), "--destination", str(out)],
        capture_output=True,
        text=True,
        timeout=HUGO_TIMEOUT,
        check=False,
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-500:] or f"exit {done.returncode}"}
    files = [path for path in out.rglob("*") if path.is_file()]
    return {
        "seconds": round(seconds, 2),
        "files": len(files),
        "mib": round(sum(path.stat().st_size for path in files) / 2**20, 1),
        # ru_maxrss of the children: the largest of them so far (KiB on Linux), so the cold
        # build's figure is Hugo's peak; later ones can only repeat it or grow.
        "peak_mib": round(max(peak, before) / 1024, 1),
    }


def measure(work: Path, count: int) -> dict[str, Any]:
    """Build the Hugo site of a `count`-article corpus cold, after an edit and after a new
    article; return the figures (Hugo rebuilds whole every time)."""
    if shutil.which("hugo") is None:
        return {"error": "hugo is not installed (Debian: apt-get install hugo)"}
    corpus = write_corpus(work / f"corpus-{count}", count)
    site = hugo_site(corpus, work / "hugo-site")
    figures: dict[str, Any] = {"articles": count, "cold": build(site)}
    first = next(iter(sorted((site / "content").rglob("*.md"))))
    first.write_text(first.read_text(encoding="utf-8") + "\n\nA correction.", encoding="utf-8")
    figures["one edited"] = build(site)
    extra = corpus / "zzzzzz_new.txt"
    extra.write_text("Science\n\nA new article\n\nA new article\n\nBody.", encoding="utf-8")
    write_page(site, extra, START + timedelta(minutes=count + 1))  # the newest, not future
    extra.unlink()
    figures["one new"] = build(site)
    return figures


# What the speed issue asks of feedsvc, as a share of Hugo's full build (None: seconds).
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("cold build", "cold", 3.0),
    ("build, one edited article", "edit", 0.1),
    ("build, one new article", "new", 0.1),
    ("build, one removed article", "remove", 0.1),
)


def compare(hugo: dict[str, Any], feedsvc: dict[str, float | None]) -> str:
    """Return a table of feedsvc's seconds beside Hugo's full build: ratio, target, met."""
    base = hugo.get("cold", {}).get("seconds")
    lines = [
        f"Hugo full build of {hugo.get('articles')} articles: "
        + (f"{base} s, {hugo['cold']['files']} files" if base else str(hugo.get("error"))),
        f"{'step':32} {'feedsvc s':>10} {'x Hugo':>8} {'target':>8}  verdict",
    ]
    for label, key, target in TARGETS:
        seconds = feedsvc.get(key)
        if seconds is None or not base:
            lines.append(f"{label:32} {'-':>10} {'-':>8} {target:>7}x  not measured")
            continue
        ratio = seconds / base
        verdict = "met" if ratio <= target else "missed"
        lines.append(f"{label:32} {seconds:>10.2f} {ratio:>8.2f} {target:>7}x  {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    default = Path(tempfile.gettempdir()) / "feedsvc-bench-hugo"
    parser.add_argument("--work", type=Path, default=default)
    parser.add_argument("--feedsvc", type=Path, help="publishing results JSON to compare with")
    args = parser.parse_args(argv)
    figures = measure(args.work, args.articles)
    print(json.dumps(figures, indent=2))
    if args.feedsvc is not None:
        mine = json.loads(args.feedsvc.read_text(encoding="utf-8"))
        print(compare(figures, mine))
    return 0 if "error" not in figures else 1


if __name__ == "__main__":
    sys.exit(main())
