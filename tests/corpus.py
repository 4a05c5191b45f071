"""A generated corpus for tests: many articles over several sections, in the seed format."""

from __future__ import annotations

from pathlib import Path

from .conftest import article_text

SECTIONS = ("World News", "Business", "Science", "Économie & Société")


def write_corpus(folder: Path, count: int, sections: tuple[str, ...] = SECTIONS) -> list[str]:
    """Write `count` articles round-robin over `sections`; return their keys, oldest first."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = []
    for n in range(count):
        key = f"{n:05d}_story"
        section = sections[n % len(sections)]
        title = f"Story {n}: {section} update"
        paragraphs = (
            f"Paragraph one of story {n}, about {section}.",
            f"Figures rose {n}% & fell; \"quotes\" and 'apostrophes' stay text.",
            "Zürich, 東京 and São Paulo reported the same.",
        )
        (folder / f"{key}.txt").write_text(
            article_text(section, title, paragraphs), encoding="utf-8"
        )
        keys.append(key)
    return keys
