"""`feedsvc stats` on logs made here in the formats real servers write: exact counts per feed and
day, web readers by what they say, other readers by distinct pairs, no address kept."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc.cli import cli
from feedsvc.fediverse.store import Follower, open_store
from tests.stats.logs import (
    BINGBOT,
    CHROME,
    CLOUDFRONT_HEADER,
    CURL,
    FACEBOOK,
    FEEDBIN,
    FEEDLY,
    GOOGLEBOT,
    INOREADER,
    NETNEWSWIRE,
    NEWSBLUR,
    NEWSBOAT,
    OLD_READER,
    SUPERFEEDR,
    THUNDERBIRD,
    TWITTER,
    UPTIMEROBOT,
    cloudfront,
    combined,
    moment,
    s3,
)

ATOM, RSS, SCIENCE = "/feeds/atom.xml", "/feeds/rss.xml", "/sections/science/atom.xml"
A, B, C = "2024-03-01", "2024-03-02", "2024-03-03"


def _day_a() -> str:
    lines = [
        # Feedly's two subscriptions of the Atom feed: one polled from two addresses.
        combined("54.0.0.1", moment(A, 1), ATOM, FEEDLY.format(n=120, id="A1")),
        combined("54.0.0.2", moment(A, 5), ATOM, FEEDLY.format(n=118, id="A1")),
        combined(
            "54.0.0.3", moment(A, 6), ATOM + "?utm_source=feedly", FEEDLY.format(n=5, id="A2")
        ),
        combined("54.0.0.1", moment(A, 7), RSS, FEEDLY.format(n=30, id="R1")),
        combined("95.0.0.1", moment(A, 2), RSS, INOREADER.format(n=37)),
        combined("95.0.0.2", moment(A, 9), RSS, INOREADER.format(n=36), status=304, size=0),
        combined("96.0.0.1", moment(A, 3), ATOM, NEWSBLUR.format(n=15, id=1234)),
        combined("97.0.0.1", moment(A, 3), SCIENCE, FEEDBIN.format(n=8, id=99)),
        combined("98.0.0.1", moment(A, 4), ATOM, OLD_READER.format(n=5, id="xyz")),
        combined("99.0.0.1", moment(A, 4), ATOM, SUPERFEEDR.format(n=3, id=777)),
        # Readers polling from their own address: five pairs on the Atom feed.
        combined("192.0.2.10", moment(A, 8), ATOM, NEWSBOAT),
        combined("192.0.2.10", moment(A, 9), ATOM, NEWSBOAT, status=304, size=0),
        combined("192.0.2.10", moment(A, 10), ATOM, NEWSBOAT, status=304, size=0),
        combined("192.0.2.11", moment(A, 8), ATOM, NETNEWSWIRE),
        combined("192.0.2.12", moment(A, 8), ATOM, THUNDERBIRD),
        combined("192.0.2.13", moment(A, 8), ATOM, THUNDERBIRD),
        combined("192.0.2.11", moment(A, 11), ATOM, NEWSBOAT),
        combined("192.0.2.10", moment(A, 8), RSS, NEWSBOAT),
        combined("192.0.2.14", moment(A, 8), SCIENCE, NETNEWSWIRE, method="HEAD", status=304),
        # Polls that are no subscriber.
        combined("66.249.0.1", moment(A, 8), ATOM, GOOGLEBOT),
        combined("40.77.0.1", moment(A, 8), RSS, BINGBOT),
        combined("31.13.0.1", moment(A, 8), ATOM, FACEBOOK),
        combined("199.16.0.1", moment(A, 8), RSS, TWITTER),
        combined("203.0.113.5", moment(A, 8), ATOM, CHROME),
        combined("203.0.113.6", moment(A, 8), ATOM, UPTIMEROBOT),
        combined("203.0.113.7", moment(A, 8), ATOM, CURL),
        combined("203.0.113.5", moment(A, 8), "/", CHROME),
        combined("192.0.2.10", moment(A, 8), "/feeds/archive/1/atom.xml", NEWSBOAT),
        combined("192.0.2.15", moment(A, 8), ATOM, NEWSBOAT, status=500),
        combined("192.0.2.15", moment(A, 8), ATOM, NEWSBOAT, method="POST", status=405),
        # Bad input: an absurd count, a browser claiming subscribers, junk, a line cut short.
        combined("6.6.6.6", moment(A, 8), ATOM, FEEDLY.format(n=999999999, id="A1")),
        combined("6.6.6.7", moment(A, 8), ATOM, CHROME + " 500 subscribers"),
        "garbage\n",
        combined("192.0.2.10", moment(A, 12), ATOM, NEWSBOAT)[:40] + "\n",
    ]
    return "".join(lines)


def _day_b() -> str:
    return "".join(
        [
            combined("54.0.0.1", moment(B, 1), ATOM, FEEDLY.format(n=122, id="A1")),
            combined("54.0.0.3", moment(B, 1), ATOM, FEEDLY.format(n=5, id="A2")),
            combined("95.0.0.1", moment(B, 2), RSS, INOREADER.format(n=38)),
            combined("192.0.2.10", moment(B, 8), ATOM, NEWSBOAT),
            combined("192.0.2.12", moment(B, 8), ATOM, THUNDERBIRD),
        ]
    )


def _day_c_cloudfront() -> str:
    return CLOUDFRONT_HEADER + "".join(
        [
            cloudfront("54.0.0.1", moment(C, 1), ATOM, FEEDLY.format(n=123, id="A1")),
            cloudfront("192.0.2.11", moment(C, 8), ATOM, NETNEWSWIRE),
            cloudfront("66.249.0.1", moment(C, 8), ATOM, GOOGLEBOT),
        ]
    )


def _day_c_s3() -> str:
    return "".join(
        [
            s3("95.0.0.1", moment(C, 2), RSS, INOREADER.format(n=39)),
            s3("192.0.2.10", moment(C, 8), RSS, NEWSBOAT),
            s3("54.0.0.2", moment(C, 3), ATOM, FEEDLY.format(n=121, id="A1")),
        ]
    )


@pytest.fixture
def logs(tmp_path: Path) -> list[Path]:
    """Write three days of logs: feedsvc's plain, a rotated gzipped one, CloudFront and S3."""
    first = tmp_path / "access.log.1"
    first.write_text(_day_a(), encoding="ascii")
    rotated = tmp_path / "access.log.2.gz"
    rotated.write_bytes(gzip.compress(_day_b().encode("ascii")))
    edge = tmp_path / "E2EXAMPLE.2024-03-03-08.abcd1234"  # CloudFront's names carry no .gz
    edge.write_bytes(gzip.compress(_day_c_cloudfront().encode("ascii")))
    bucket = tmp_path / "2024-03-03-08-10-00-ABCDEF"
    bucket.write_text(_day_c_s3(), encoding="ascii")
    return [rotated, edge, first, bucket]  # any order


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return a catalog path whose federation store has two followers of the site since day A
    and one of the science section since day B."""
    path = tmp_path / "instance" / "catalog.sqlite3"
    with open_store(path) as store:
        for actor, scope, day in (("a", "", A), ("b", "", A), ("c", "science", B)):
            monkeypatch.setattr(time, "time", lambda day=day: moment(day).timestamp())
            store.add_follower(Follower(scope, f"https://social.example/users/{actor}", "x", None))
    monkeypatch.undo()
    return path


def _run(database: Path, *args: str, stdin: bytes | None = None) -> tuple[str, str]:
    result = CliRunner().invoke(
        cli, ["--database", str(database), "stats", *args], input=stdin, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def test_exact_counts_per_feed_and_day(logs: list[Path], database: Path) -> None:
    out, err = _run(database, "--json", *map(str, logs))
    report = json.loads(out)
    assert report["days"] == [A, B, C]
    assert report["feeds"][ATOM] == {
        "subscribers": 124,
        "web": 123,  # Feedly's A1 said 123 through CloudFront and 121 through S3: the largest
        "websub": 0,
        "readers": 1,
        "services": {"Feedly": 123},
        "apps": {"NetNewsWire": 1},
        # A: Feedly 120 (one feed id from two addresses) + 5, NewsBlur 15, The Old Reader 5,
        # Superfeedr 3, five readers; B: Feedly 122 + 5, two readers.
        "daily": [153, 129, 124],
    }
    assert report["feeds"][RSS]["daily"] == [68, 38, 40]
    assert report["feeds"][RSS]["services"] == {"Inoreader": 39}
    assert report["feeds"][RSS]["apps"] == {"newsboat": 1}
    assert report["feeds"][SCIENCE]["daily"] == [9, 0, 0]
    assert list(report["feeds"]) == [ATOM, RSS, SCIENCE]  # most subscribers first
    assert report["fediverse"] == {
        "followers": 3,
        "actors": {"/fediverse/actor.json": 2, "/sections/science/actor.json": 1},
        "daily": [2, 3, 3],
    }
    assert report["daily"] == [153 + 68 + 9 + 2, 129 + 38 + 3, 124 + 40 + 3]
    assert report["total"] == 167
    assert report["shares"] == {
        "Feedly": {"subscribers": 123, "share": round(123 / 167, 4)},
        "Inoreader": {"subscribers": 39, "share": round(39 / 167, 4)},
        "Fediverse (ActivityPub)": {"subscribers": 3, "share": round(3 / 167, 4)},
        "NetNewsWire": {"subscribers": 1, "share": round(1 / 167, 4)},
        "newsboat": {"subscribers": 1, "share": round(1 / 167, 4)},
    }
    assert report["skipped"] == {
        "a browser's agent claiming subscribers": 1,
        "an absurd subscriber count (over 1,000,000)": 1,
        "not an access log line": 2,
    }
    assert report["ignored"] == {
        "browsers opening a feed": 1,
        "feed requests not answered 200 or 304": 2,
        "HTTP tools and scripts (curl, wget, libraries)": 1,
        "monitors": 1,
        "not a subscription feed": 2,
        "search engine and social crawlers": 5,
    }
    assert report["lines"]["read"] == 34 + 5 + 5 + 3  # CloudFront's two header lines included
    assert "skipped: not an access log line: 2" in err


def test_the_first_day_in_detail(logs: list[Path], database: Path) -> None:
    report = json.loads(_run(database, "--json", str(logs[2]))[0])
    atom = report["feeds"][ATOM]
    assert atom["services"] == {
        "Feedly": 125,
        "NewsBlur": 15,
        "Superfeedr (WebSub)": 3,
        "The Old Reader": 5,
    }
    assert (atom["web"], atom["websub"], atom["readers"]) == (145, 3, 5)
    assert atom["apps"] == {"NetNewsWire": 1, "Thunderbird": 2, "newsboat": 2}
    assert report["feeds"][SCIENCE]["services"] == {"Feedbin": 8}
    assert report["feeds"][SCIENCE]["readers"] == 1  # a HEAD answered 304 is a poll too
    assert report["total"] == 153 + 68 + 9 + 2


def test_since_keeps_the_last_days(logs: list[Path], database: Path) -> None:
    report = json.loads(_run(database, "--json", "--since", "2", *map(str, logs))[0])
    assert report["days"] == [B, C]
    assert report["feeds"][ATOM]["daily"] == [129, 124]
    assert report["total"] == 167


def test_standard_input_and_mixed_formats_in_one_stream(logs: list[Path], database: Path) -> None:
    mixed = _day_b() + _day_c_cloudfront() + _day_c_s3()
    report = json.loads(_run(database, "--json", stdin=gzip.compress(mixed.encode()))[0])
    assert report["days"] == [B, C]
    assert report["total"] == 167
    text = _run(database, "-", stdin=mixed.encode())[0]
    assert text.splitlines()[0] == "167 subscriptions on 2024-03-03 (2 days of logs)"
    assert "  /feeds/atom.xml: 124 (web readers 123, WebSub 0, own readers 1)" in text


def test_no_address_is_printed_or_written(logs: list[Path], database: Path, tmp_path: Path) -> None:
    page, chart = tmp_path / "report.html", tmp_path / "chart.svg"
    outputs = [
        *_run(database, "--json", "--html", str(page), "--svg", str(chart), *map(str, logs)),
        *_run(database, *map(str, logs)),
        page.read_text(),
        chart.read_text(),
    ]
    for text in outputs:
        for address in ("192.0.2.", "54.0.0.", "95.0.0.", "6.6.6.", "203.0.113."):
            assert address not in text


def test_a_truncated_gzip_file_counts_what_it_holds(tmp_path: Path, database: Path) -> None:
    lines = "".join(combined(f"192.0.2.{n}", moment(A, 8), ATOM, NEWSBOAT) for n in range(1, 201))
    data = gzip.compress(lines.encode())
    cut = tmp_path / "access.log.3.gz"
    cut.write_bytes(data[: len(data) // 2])
    corrupt = tmp_path / "access.log.4.gz"
    corrupt.write_bytes(data[:20] + b"\x00" * 200)
    missing = tmp_path / "access.log.5.gz"
    out, err = _run(database, "--json", str(cut), str(corrupt), str(missing))
    report = json.loads(out)
    assert 0 < report["feeds"][ATOM]["readers"] < 200
    assert report["skipped"]["gzip files cut short (read up to the cut)"] == 1
    assert report["skipped"]["corrupt gzip files (read up to the damage)"] == 1
    assert report["skipped"]["files that cannot be read (No such file or directory)"] == 1
    assert "Traceback" not in out + err


def test_a_lower_cap_refuses_bigger_claims(logs: list[Path], database: Path) -> None:
    report = json.loads(_run(database, "--json", "--max-count", "100", *map(str, logs))[0])
    assert report["feeds"][ATOM]["services"] == {}  # Feedly's 123 is refused now
    # Feedly said 120, 118 and 999999999 on day A, 122 on B, 123 and 121 on C.
    assert report["skipped"]["an absurd subscriber count (over 100)"] == 6


def test_a_feed_id_seen_at_two_urls_counts_once() -> None:
    from feedsvc.stats.lines import LineParser
    from feedsvc.stats.report import build
    from feedsvc.stats.tally import Tally

    tally, parser = Tally(), LineParser()
    agent = FEEDBIN.format(n=8, id=99)
    for hour, path in ((1, SCIENCE), (2, "/sections/science/rss.xml"), (3, SCIENCE)):
        tally.add_line(combined("97.0.0.1", moment(A, hour), path, agent), parser)
    report = build(tally)
    assert [(feed.path, feed.subscribers) for feed in report.feeds] == [(SCIENCE, 8)]
    assert report.total == 8
