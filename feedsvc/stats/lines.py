"""Access log lines in, requests out: nginx's combined format (feedsvc's own log is that format
with the duration appended), CloudFront standard logs and S3 server access logs, mixed freely.

A line is turned into a `Hit` or into the reason it was skipped; nothing in a line is trusted
(any field may be absent, too long, escaped or forged), and no line raises.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import NamedTuple
from urllib.parse import unquote

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
# A quoted field: nginx writes \xHH, Apache and S3 write \" (unrolled: no per-character branch).
_QUOTED = r'"([^"\\]*(?:\\.[^"\\]*)*)"'
_SKIP_QUOTED = r'"[^"\\]*(?:\\.[^"\\]*)*"'
# client ident user [time] "request" status bytes "referrer" "agent" (then anything: a duration)
_TIME = r"\[(\d\d/\w\w\w/\d{4}:\d\d):(\d\d):\d\d ([+-]\d{4})\]"  # hour, minutes, zone
_COMBINED = re.compile(
    rf"(\S+) \S+ \S+ {_TIME} {_QUOTED} (\d{{3}}) (?:\d+|-) {_SKIP_QUOTED} {_QUOTED}"
)
# owner bucket [time] ip requester id operation key "request" status error bytes size total
# turnaround "referrer" "agent" ...
_S3 = re.compile(
    rf"\S+ \S+ {_TIME} (\S+) \S+ \S+ \S+ \S+ {_QUOTED} (\d{{3}}|-) \S+ \S+ \S+ \S+ \S+ "
    rf"{_SKIP_QUOTED} {_QUOTED}"
)
_CLOUDFRONT_DATE = re.compile(r"\d{4}-\d\d-\d\d\t")
# CloudFront's standard log fields when a file does not say (#Fields: names them).
_CLOUDFRONT_FIELDS = (
    *("date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)"),
    *("cs-uri-stem", "sc-status", "cs(Referer)", "cs(User-Agent)", "cs-uri-query"),
)
_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})|\\(.)")
_tuple = tuple.__new__
MAX_LINE = 16_384  # characters: a longer line is no request a server logged


class Hit(NamedTuple):
    """One logged request, as much of it as counting needs."""

    day: str  # the UTC date, YYYY-MM-DD
    client: str
    method: str
    path: str  # the target without its query
    status: int
    agent: str


def _unescaped(value: str) -> str:
    """Return a quoted field as sent: nginx's \\xHH bytes and Apache's \\" undone."""

    def one(match: re.Match[str]) -> str:
        hexa, other = match.groups()
        return chr(int(hexa, 16)) if hexa else other

    # The characters are bytes (as nginx escaped them): decode them as the UTF-8 they were.
    raw = _ESCAPE.sub(one, value)
    return raw.encode("latin-1", "replace").decode("utf-8", "replace")


def _path(target: str) -> str:
    if target.startswith(("http://", "https://")):  # the absolute form a proxy may log
        slash = target.find("/", target.find("//") + 2)
        target = target[slash:] if slash > 0 else "/"
    return target.partition("?")[0]


class LineParser:
    """Turns lines of one source into hits; remembers a CloudFront file's #Fields line."""

    def __init__(self) -> None:
        self._days: dict[str, str | None] = {}  # a stamp's date, hour and zone -> UTC day
        self._fields = {name: n for n, name in enumerate(_CLOUDFRONT_FIELDS)}

    def parse(self, line: str) -> Hit | str:
        """Return the line's request, or the reason it is skipped."""
        if len(line) > MAX_LINE:
            return "line too long"
        match = _COMBINED.match(line)
        if match is not None:
            client, hour, minutes, zone, request, status, agent = match.groups()
            return self._hit(client, hour, minutes, zone, request, status, agent)
        if _CLOUDFRONT_DATE.match(line):
            return self._cloudfront(line)
        if line.startswith("#"):
            if line.startswith("#Fields:"):
                names = line[len("#Fields:") :].split()
                self._fields = {name: n for n, name in enumerate(names)}
            return "comment"
        match = _S3.match(line)
        if match is not None:
            hour, minutes, zone, client, request, status, agent = match.groups()
            return self._hit(client, hour, minutes, zone, request, status, agent)
        if not line.strip():
            return "empty line"
        return "not an access log line"

    def _hit(
        self,
        client: str,
        hour: str,
        minutes: str,
        zone: str,
        request: str,
        status: str,
        agent: str,
    ) -> Hit | str:
        # Minutes never move the day in UTC or another zone of whole hours.
        key = hour if zone == "+0000" else f"{hour}:{minutes} {zone}"
        day = self._days.get(key, "")
        if day == "":
            day = _utc_day(hour[:2], hour[3:6], hour[7:11], hour[12:14], minutes, zone)
            if len(self._days) < 100_000:
                self._days[key] = day
        if day is None:
            return "impossible date"
        parts = request.split(" ")
        if len(parts) not in (2, 3) or not parts[1].startswith(("/", "http")):
            return "no request line"
        target = parts[1]
        path = target.partition("?")[0] if target[0] == "/" else _path(target)
        if "\\" in agent:
            agent = _unescaped(agent)
        code = int(status) if status.isdigit() else 0
        # tuple.__new__: a NamedTuple's own __new__ is Python code, a fifth of a line's cost.
        return _tuple(Hit, (day, client, parts[0], path, code, "" if agent == "-" else agent))

    def _cloudfront(self, line: str) -> Hit | str:
        values = line.rstrip("\r\n").split("\t")
        fields = self._fields
        try:
            day = values[fields["date"]]
            status = values[fields["sc-status"]]
            agent = unquote(unquote(values[fields["cs(User-Agent)"]]))  # encoded, spaces twice
            hit = Hit(
                day,
                values[fields["c-ip"]],
                values[fields["cs-method"]],
                values[fields["cs-uri-stem"]],
                int(status) if status.isdigit() else 0,
                "" if agent == "-" else agent,
            )
        except (KeyError, IndexError):
            return "CloudFront line without the fields named"
        if _utc_day(day[8:10], "", day[:4], "00", "00", "+0000", month=day[5:7]) is None:
            return "impossible date"
        return hit


def _utc_day(
    dd: str, mon: str, yyyy: str, hh: str, mm: str, zone: str, *, month: str | None = None
) -> str | None:
    """Return the UTC date of a local time stamp, or None when it is no date."""
    number = int(month) if month and month.isdigit() else _MONTHS.get(mon)
    if number is None:
        return None
    try:
        moment = datetime(int(yyyy), number, int(dd), int(hh), int(mm))  # noqa: DTZ001 - offset below
    except ValueError:
        return None
    offset = (int(zone[1:3]) * 60 + int(zone[3:5])) * (-1 if zone[0] == "-" else 1)
    if offset:
        moment -= timedelta(minutes=offset)
    return moment.date().isoformat()
