"""The whole article reaches every client, whichever format it subscribed to.

Clients that pick one text per entry (rss2email, and any feedparser user that prefers plain
text) choose by media type among the entry's content and its summary: Atom and RSS offer the
same choice, so both pick the content. Read back with feedparser and delivered for real by
rss2email into a maildir.
"""

from __future__ import annotations

import email
import subprocess
import sys
from email import policy
from email.message import EmailMessage
from pathlib import Path

import feedparser
import pytest

from feedsvc.documents.feeds import build_atom, build_rss
from tests.documents.test_feeds import info, record

LAST = "The last paragraph, which only the whole article carries."
PARAGRAPHS = ("Zoë Brontë & Søren: R&D, x < y && y > z.", "A second paragraph.", LAST)
RECORDS = [record(2, paragraphs=PARAGRAPHS), record(1, title="R&D plans: Zoë & Søren, x < y")]


def documents() -> dict[str, bytes]:
    return {
        "atom.xml": build_atom(info("atom.xml"), RECORDS),
        "rss.xml": build_rss(info("rss.xml"), RECORDS),
    }


@pytest.mark.parametrize("name", ["atom.xml", "rss.xml"])
def test_feedparser_offers_no_plain_text_shortcut(name: str) -> None:
    parsed = feedparser.parse(documents()[name])
    assert not parsed.bozo
    entry = parsed.entries[0]
    # What a client that prefers plain text (rss2email's default) chooses, as rss2email does.
    candidates = [*entry.content, entry.summary_detail]
    chosen = next(c for t in ("text/plain", "text/html") for c in candidates if c.type == t)
    assert LAST in chosen.value
    assert entry.summary_detail.type == "text/html"  # the summary is a preview, not a rival
    assert "Zoë Brontë &amp; Søren" in entry.summary  # the same text as RSS <description>


def _mails(folder: Path) -> list[EmailMessage]:
    mails = []
    for path in sorted((folder / "INBOX" / "new").iterdir()):
        with path.open("rb") as handle:
            message = email.message_from_binary_file(handle, policy=policy.default)
        assert isinstance(message, EmailMessage)
        mails.append(message)
    return mails


@pytest.mark.parametrize("html_mail", [False, True])
def test_rss2email_mails_the_whole_article_from_atom_and_rss(
    tmp_path: Path, html_mail: bool
) -> None:
    r2e = Path(sys.executable).with_name("r2e")
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / "INBOX" / sub).mkdir(parents=True)
    config = tmp_path / "rss2email.cfg"
    config.write_text(
        "[DEFAULT]\nto = reader@example.org\nfrom = feeds@example.org\n"
        f"email-protocol = maildir\nmaildir-path = {maildir}\nmaildir-mailbox = INBOX\n"
        f"html-mail = {html_mail}\n",
        "utf-8",
    )
    base = [str(r2e), "-c", str(config), "-d", str(tmp_path / "state.json")]
    for name, body in documents().items():
        (tmp_path / name).write_bytes(body)
        subprocess.run(
            [*base, "add", name.split(".")[0], (tmp_path / name).as_uri()],
            check=True,
            capture_output=True,
            timeout=60,
        )
    subprocess.run([*base, "run"], check=True, capture_output=True, timeout=120)
    mails = _mails(maildir)
    assert len(mails) == 4
    by_feed: dict[str, dict[str, str]] = {}
    for mail in mails:
        part = mail.get_body(("html", "plain"))
        assert part is not None
        by_feed.setdefault(str(mail["X-RSS-Feed"]).rsplit("/", 1)[1], {})[str(mail["Subject"])] = (
            part.get_content()
        )
    assert set(by_feed) == {"atom.xml", "rss.xml"}
    for feed, bodies in by_feed.items():
        whole = next(text for text in bodies.values() if "second paragraph" in text)
        assert LAST in whole, (feed, whole)
    # The same subjects (titles) whichever format the mail came from. (Not for a title that
    # holds an HTML closing tag or entity: RSS gives titles no type, feedparser then guesses
    # HTML and rss2email renders the markup, while Atom says it is text.)
    assert set(by_feed["atom.xml"]) == set(by_feed["rss.xml"])
