"""Which tags can be hashtags, spelt as Mastodon reads them (pure).

Mastodon reads a hashtag as the longest run of word characters (letters, marks, digits, `_`)
with at least one letter; `·`, `・` and the zero-width non-joiner may stand inside it
(Tag::HASHTAG_NAME_RE). It files a post under a Hashtag object's name with every other character
dropped, so a tag `C++` would file the post under #C and `R&D` under #RD: another topic's
hashtag. A tag is spelt as a hashtag only when nothing but what joins words is left out, and is
otherwise no hashtag at all: the Note links it to its page by its name as written. A respelling
(`#CPlusPlus`, `#RandD`) would be a name the tag's readers never chose, and a hashtag nobody
follows; a plain link keeps the name and the page, and loses only that.
"""

from __future__ import annotations

import unicodedata

# Characters Mastodon keeps inside a hashtag besides word characters.
SEPARATORS = "_\u00b7\u30fb\u200c"
# Dropped from a word without changing it: dashes (COVID-19) and apostrophes (women's).
_JOINERS = "'\u2019"


def _word(char: str) -> bool:
    """Return whether `char` is a word character as Ruby's [[:word:]] reads one."""
    return unicodedata.category(char)[0] in "LMN" or char == "_"


def _letter(char: str) -> bool:
    # [[:alpha:]] is Unicode's Alphabetic, which the standard library does not expose: letters
    # and letter numbers here. A name with nothing else than marks and digits is refused,
    # which can only make a hashtag a plain link, never a wrong hashtag.
    return unicodedata.category(char) in ("Lu", "Ll", "Lt", "Lm", "Lo", "Nl")


def is_hashtag_name(name: str) -> bool:
    """Return whether Mastodon reads `name` whole as a hashtag (Tag::HASHTAG_NAME_RE)."""
    if not name or not all(_word(c) or c in SEPARATORS for c in name):
        return False
    if any(_letter(c) for c in name) and all(_word(c) for c in name):
        return True
    # Else a separator (`_` too) must stand inside, between word characters at both ends.
    return (
        len(name) >= 3
        and _word(name[0])
        and _word(name[-1])
        and any(c in SEPARATORS for c in name[1:-1])
    )


def _joined(word: str) -> str:
    return "".join(c for c in word if c not in _JOINERS and unicodedata.category(c) != "Pd")


def hashtag(text: str) -> str | None:
    """Return the hashtag name of a section or tag ('World News' -> 'WorldNews'), or None
    when Mastodon would read it as another name ('C++') or as none ('2024').

    The words of a name of several are joined, each in lower case given a capital, so that
    a screen reader reads them apart ('climate change' -> 'ClimateChange'); a word with a
    capital is kept as written ('iPhone')."""
    words = [_joined(word) for word in text.split()]
    if len(words) > 1:
        words = [w[:1].upper() + w[1:] if w.islower() else w for w in words]
    name = unicodedata.normalize("NFC", "".join(words))
    return name if is_hashtag_name(name) else None
