"""Log lines in, requests out: every format, escapes, local times, and lines that are no line."""

from __future__ import annotations

from feedsvc.stats.lines import MAX_LINE, Hit, LineParser
from feedsvc.stats.tally import Tally
from tests.stats.logs import CLOUDFRONT_HEADER, NEWSBOAT, cloudfront, combined, moment, s3

ATOM = "/feeds/atom.xml"


def test_the_three_formats_give_the_same_request() -> None:
    when = moment("2024-03-01", 8)
    expected = Hit("2024-03-01", "192.0.2.1", "GET", ATOM, 200, NEWSBOAT)
    parser = LineParser()
    assert parser.parse(combined("192.0.2.1", when, ATOM + "?a=1", NEWSBOAT)) == expected
    assert parser.parse(s3("192.0.2.1", when, ATOM, NEWSBOAT)) == expected
    assert parser.parse(cloudfront("192.0.2.1", when, ATOM, NEWSBOAT)) == expected
    for line in CLOUDFRONT_HEADER.splitlines(keepends=True):
        assert parser.parse(line) == "comment"
    assert parser.parse(cloudfront("192.0.2.1", when, ATOM, NEWSBOAT)) == expected


def test_a_local_time_counts_on_its_utc_day() -> None:
    line = '192.0.2.1 - - [01/Mar/2024:00:30:00 +0100] "GET /feeds/atom.xml HTTP/1.1" 200 1 "-" "x"'
    hit = LineParser().parse(line)
    assert isinstance(hit, Hit)
    assert hit.day == "2024-02-29"
    west = line.replace("01/Mar/2024:00:30:00 +0100", "31/Dec/2023:23:30:00 -0500")
    assert LineParser().parse(west) == hit._replace(day="2024-01-01")
    parser = LineParser()  # a half-hour zone: the minutes decide the day
    india = [
        line.replace("01/Mar/2024:00:30:00 +0100", f"01/Mar/2024:05:{m}:00 +0530")
        for m in ("20", "40")
    ]
    assert [getattr(parser.parse(one), "day", None) for one in india] == [
        "2024-02-29",
        "2024-03-01",
    ]


def test_escaped_agents_are_read_as_sent() -> None:
    nginx = (
        '192.0.2.1 - - [01/Mar/2024:08:00:00 +0000] "GET /feeds/atom.xml HTTP/1.1" 200 1 "-" '
        '"Caf\\xC3\\xA9Reader/1.0 \\x22quoted\\x22 \\x5C" 0.001'
    )
    apache = nginx.replace("\\x22", '\\"').replace(" 0.001", "")
    for line in (nginx, apache):
        hit = LineParser().parse(line)
        assert isinstance(hit, Hit)
        assert hit.agent.startswith('CaféReader/1.0 "quoted"')


def test_a_proxys_absolute_target_is_a_path() -> None:
    line = combined(
        "192.0.2.1", moment("2024-03-01"), "http://news.example.org/feeds/atom.xml", "x"
    )
    hit = LineParser().parse(line)
    assert isinstance(hit, Hit)
    assert hit.path == ATOM


def test_lines_that_are_no_request_say_why() -> None:
    parser = LineParser()
    good = combined("192.0.2.1", moment("2024-03-01"), ATOM, NEWSBOAT)
    assert parser.parse(good.replace("01/Mar/2024", "31/Feb/2024")) == "impossible date"
    assert parser.parse(good.replace("01/Mar/2024", "01/Foo/2024")) == "impossible date"
    assert parser.parse(good.replace(f"GET {ATOM} HTTP/1.1", "-")) == "no request line"
    assert parser.parse(good.replace(f"GET {ATOM} HTTP/1.1", "\\x16\\x03\\x01")) == (
        "no request line"  # a TLS handshake sent to the plain port, as nginx logs it
    )
    assert parser.parse("x" * (MAX_LINE + 1)) == "line too long"
    assert parser.parse("\n") == "empty line"
    assert parser.parse("INFO granian: Started worker-1\n") == "not an access log line"
    assert parser.parse("2024-03-01\tonly\tthree\n") == "CloudFront line without the fields named"


def test_a_tally_keeps_no_address_and_a_new_salt_each_day() -> None:
    tally = Tally()
    parser = LineParser()
    for day in ("2024-03-01", "2024-03-02"):
        for hour in (1, 2):  # the same reader twice a day
            tally.add_line(combined("192.0.2.77", moment(day, hour), ATOM, NEWSBOAT), parser)
    first, second = (tally.days[day].readers[ATOM] for day in ("2024-03-01", "2024-03-02"))
    assert len(first) == len(second) == 1
    assert first.keys() != second.keys()  # nothing links one day's reader to the next
    held = repr(tally.days) + repr(vars(tally))
    assert "192.0.2.77" not in held
    assert tally.counted == 4
