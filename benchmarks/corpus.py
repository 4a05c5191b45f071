"""Generate N articles in the seed format (~3 KB each), deterministic for a given N and seed.

Sections vary (some non-ASCII), titles and bodies carry non-ASCII text and the characters
markup cares about (& < > " '), so escaping is exercised at every size.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path

SECTIONS = (
    "World News",
    "Business",
    "Science",
    "Technology",
    "Sport",
    "Culture",
    "Économie & Société",
    "Gesundheit",
    "東京 Report",
    "Opinion <Editorial>",
)
_TEXT = """
government officials said talks would resume after the summit in the capital while
analysts warned markets could fall & rise again as prices < forecasts > expectations
Zürich São Paulo Kraków Ærøskøbing naïve café résumé coöperate 東京 Москва Αθήνα
the committee's report "found" evidence that 'several' agencies had ignored warnings
"""
WORDS = tuple(_TEXT.split())


def article(rng: random.Random, n: int) -> str:
    """Return article number `n` in the seed format, about 3 KB long."""
    section = SECTIONS[n % len(SECTIONS)]
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12))).capitalize()
    title = f"{title} ({n})"
    paragraphs = []
    size = 0
    while size < 2800:
        paragraph = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 70)))
        paragraph = paragraph[0].upper() + paragraph[1:] + "."
        paragraphs.append(paragraph)
        size += len(paragraph.encode("utf-8"))
    return "\n\n".join([section, title, title, *paragraphs])


def write_corpus(folder: Path, count: int, *, seed: int = 5005) -> Path:
    """Write `count` articles into `folder` (created); return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for n in range(count):
        (folder / f"{n:06d}_bench.txt").write_text(article(rng, n), encoding="utf-8")
    return folder


def main() -> None:
    """Command line: python -m benchmarks.corpus FOLDER N."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("count", type=int)
    args = parser.parse_args()
    write_corpus(args.folder, args.count)


def log(message: str) -> None:
    """Say what is running (on stderr, so stdout stays the table)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def corpus(work: Path, count: int) -> Path:
    """Return a generated corpus of `count` articles (made once per work folder)."""
    folder = work / f"corpus-{count}"
    marker = folder / ".complete"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        log(f"writing a corpus of {count} articles")
        write_corpus(folder, count)
        marker.write_text("ok")
    return folder


if __name__ == "__main__":
    main()
