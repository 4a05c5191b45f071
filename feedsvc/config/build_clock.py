"""The build's clock from SOURCE_DATE_EPOCH, the reproducible-builds convention.

https://reproducible-builds.org/specs/source-date-epoch/: a build that must write a time it
cannot take from its inputs takes this one, so the same sources give the same bytes on any
day. CI sets it to the last commit's time (`git log -1 --format=%ct`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from feedsvc.errors import ConfigError

NAME = "SOURCE_DATE_EPOCH"
# 9999-12-31T23:59:59Z: the last second a datetime holds.
_LAST = 253_402_300_799
# ASCII digits only: int() would also take "+5", " 5", "5_0" and other scripts' digits, which
# `date +%s` never prints; the specification asks for a refusal of whatever is malformed.
_DIGITS = re.compile(r"[0-9]+")
_SHOWN = 40  # characters of a malformed value quoted back


def source_date(environ: Mapping[str, str] | None = None) -> datetime | None:
    """Return SOURCE_DATE_EPOCH as an aware UTC datetime, or None when it is unset or empty.

    Raises ConfigError (one line) when it is set to anything but whole seconds since the
    epoch.
    """
    value = (os.environ if environ is None else environ).get(NAME)
    # An empty value is unset: CI templates write `NAME: ${{ ... }}` that may expand to "".
    if not value:
        return None
    if _DIGITS.fullmatch(value) is None:
        shown = value if len(value) <= _SHOWN else value[:_SHOWN] + "…"
        raise ConfigError(
            NAME,
            f"{shown!r} is not whole seconds since 1970-01-01 UTC "
            "(set it with `git log -1 --format=%ct`, or unset it)",
        )
    seconds = int(value)
    if seconds > _LAST:
        raise ConfigError(NAME, f"{seconds} is later than the year 9999")
    return datetime.fromtimestamp(seconds, UTC)
