"""The seed-format parser: golden input/expected pairs and every refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from feedsvc.articles.text_format import parse_article, slug_for
from feedsvc.catalog.ingest import HINTS
from feedsvc.errors import ArticleError
from tests.conftest import DATA, article_text

GOLDEN = sorted((DATA / "articles").glob("*.txt"))


@pytest.mark.parametrize("path", GOLDEN, ids=[path.stem for path in GOLDEN])
def test_golden(path: Path) -> None:
    article = parse_article(path.read_bytes(), source=str(path))
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert article.key == path.stem
    assert article.section == expected["section"]
    assert article.title == expected["title"]
    assert list(article.paragraphs) == expected["paragraphs"]
    assert article.summary == expected["paragraphs"][0]


def test_seed_drops_repeated_title_and_keeps_all_paragraphs() -> None:
    article = parse_article((DATA / "articles" / "seed.txt").read_bytes(), source="seed.txt")
    assert article.title == "Iranian Top Diplomat Meets Syrian Counterpart, PM in Damascus"
    assert article.section == "World News"
    assert len(article.paragraphs) == 13
    assert article.paragraphs[0].startswith("Iranian Foreign Minister")
    assert article.paragraphs[-1].endswith("southern neighbour.")


def test_line_endings_bom_and_trailing_newline_do_not_change_content() -> None:
    base = "Sport\n\nA title\n\nA title\n\nOne.\n\nTwo."
    variants = [
        base,
        base + "\n",
        base.replace("\n", "\r\n"),
        "\ufeff" + base,
        ("\ufeff" + base).encode("utf-8"),
        base.replace("\n", "\r"),
    ]
    parsed = {parse_article(v, source="x/k.txt").content_hash for v in variants}
    assert len(parsed) == 1


def test_content_hash_moves_with_content() -> None:
    one = parse_article("S\n\nT\n\nBody.", source="a.txt")
    two = parse_article("S\n\nT\n\nBody!", source="a.txt")
    assert one.content_hash != two.content_hash


def test_key_is_the_file_stem() -> None:
    assert parse_article("S\n\nT\n\nB", source="/x/y/042_abc.txt").key == "042_abc"
    assert parse_article("S\n\nT\n\nB", source="whatever", key="given").key == "given"


def test_missing_blank_line_after_section_is_tolerated() -> None:
    article = parse_article("World\nThe title\n\nBody.", source="a.txt")
    assert (article.section, article.title, article.paragraphs) == (
        "World",
        "The title",
        ("Body.",),
    )


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"  \n\r\n\t \n", "empty"),
        (b"World News", "no-title"),
        (b"World News\n\nOnly a title", "no-body"),
        (b"World News\n\nTitle\n\nTitle", "no-body"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        (b"World\n\nTitle \xff\xfe\n\nBody", "not-utf8"),
        (b"World\n\nTitle\n\nBell \x07 here", "control-character"),
        ("World\n\nTitle\n\nC1 \x85 here".encode(), "control-character"),
        (b"World\n\n" + b"T" * 301 + b"\n\nBody", "title-too-long"),
        (b"W" * 101 + b"\n\nTitle\n\nBody", "section-too-long"),
        ("World\n\nPay \u202eexe.txt\n\nBody".encode(), "invisible-character"),
        ("World\n\nZero\u200bwidth\n\nBody".encode(), "invisible-character"),
        ("Wor\u2066ld\n\nTitle\n\nBody".encode(), "invisible-character"),
    ],
)
def test_refusals_name_the_file_and_reason(data: bytes, code: str) -> None:
    with pytest.raises(ArticleError) as caught:
        parse_article(data, source="seeds/bad.txt")
    assert caught.value.code == code
    assert caught.value.source == "seeds/bad.txt"
    assert str(caught.value).startswith("seeds/bad.txt: ")


def test_control_character_error_names_the_line() -> None:
    with pytest.raises(ArticleError, match="U\\+0001 on line 5"):
        parse_article("World\n\nTitle\n\nBad \x01", source="a.txt")


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        (
            "Iranian Top Diplomat Meets Syrian Counterpart, PM in Damascus",
            "iranian-top-diplomat-meets-syrian-counterpart-pm-in-damascus",
        ),
        ("Économie & Société", "economie-societe"),
        ("!!!", "article"),
        ("word " * 40, ("word-" * 16)[:-1]),
    ],
)
def test_slug_for(text: str, slug: str) -> None:
    assert slug_for(text) == slug


# Property tests: the parser is total over bytes, and rendering then parsing is the identity.
_WORD_CHARS = st.characters(
    codec="utf-8", categories=("L", "N", "P", "S", "Zs"), exclude_characters="\u2028\u2029\x85"
)


def _line(max_size: int) -> st.SearchStrategy[str]:
    return (
        st.text(_WORD_CHARS, min_size=1, max_size=max_size)
        .map(lambda s: " ".join(s.split()))
        .filter(lambda s: bool(s) and not s.startswith("---"))
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_any_bytes_parse_or_raise_the_typed_error(data: bytes) -> None:
    try:
        article = parse_article(data, source="fuzz.txt")
    except ArticleError as exc:
        error = exc
    else:
        assert article.section
        assert article.title
        assert article.paragraphs
        return
    assert error.source == "fuzz.txt"
    assert error.code in HINTS


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    section=_line(100),
    title=_line(300),
    paragraphs=st.lists(_line(400), min_size=1, max_size=6),
    repeat=st.booleans(),
)
def test_rendered_article_parses_back(
    section: str, title: str, paragraphs: list[str], repeat: bool
) -> None:
    assume(paragraphs[0] != title)
    text = article_text(section, title, paragraphs, repeat_title=repeat)
    article = parse_article(text.encode("utf-8"), source="x/round.txt")
    assert (article.section, article.title, article.paragraphs) == (
        section,
        title,
        tuple(paragraphs),
    )


def test_joiners_and_direction_marks_stay_allowed_in_titles() -> None:
    # ZWNJ is part of Persian spelling, ZWJ of emoji sequences; LRM/RLM mark direction.
    for title in (
        "می\u200cخواهم",  # noqa: RUF001
        "Family \U0001f468\u200d\U0001f469\u200d\U0001f467",
        "\u200fعربي",
    ):
        article = parse_article(f"World\n\n{title}\n\nBody.", source="x.txt")
        assert article.title == title
