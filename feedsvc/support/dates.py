"""How dates are written for people and in documents, once."""

from __future__ import annotations

from datetime import datetime

# English month names, whatever the process locale: strftime's %B follows LC_TIME, which a host
# application (or any library calling setlocale) may have set, and pages would then change
# language with the machine that built them.
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def iso_seconds(moment: datetime) -> str:
    """Return an aware UTC datetime as '2024-03-01T09:30:00Z' (pages, JSON-LD, sitemaps)."""
    # isoformat, not strftime: %Y pads years before 1000 with some C libraries, not with others.
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def human_date(moment: datetime) -> str:
    """Return a date as people read it: '1 March 2024' (pages, cards)."""
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"
