"""How dates are written for people and in documents, once."""

from __future__ import annotations

from datetime import datetime


def iso_seconds(moment: datetime) -> str:
    """Return an aware UTC datetime as '2024-03-01T09:30:00Z' (pages, JSON-LD, sitemaps)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def human_date(moment: datetime) -> str:
    """Return a date as people read it: '1 March 2024' (pages, cards)."""
    return f"{moment.day} {moment.strftime('%B %Y')}"
