"""What /healthz and `feedsvc status` show of federation: followers and the delivery queue."""

from __future__ import annotations

from typing import Any

from feedsvc.config.settings import Settings
from feedsvc.errors import FeedsvcError
from feedsvc.fediverse.queue import queue_state
from feedsvc.fediverse.store import open_store, store_file

CLAIM_GRACE = 30.0  # seconds a claimed delivery may outlast its deadline before it is overdue


def fediverse_health(settings: Settings, now: float) -> tuple[dict[str, Any] | None, list[str]]:
    """Return (the document's "fediverse" part, problems); (None, []) when federation is off."""
    if not settings.fediverse:
        return None, []
    if not store_file(settings.database).exists():
        return {"followers": 0, "queue": {"pending": 0}}, []
    try:
        with open_store(settings.database) as store:
            state = queue_state(store, settings.fediverse_timeout + CLAIM_GRACE)
    except FeedsvcError as exc:
        return {"error": str(exc)}, [f"fediverse store unreadable: {exc}"]
    problems = []
    overdue = None if state.overdue is None else max(0.0, now - state.overdue)
    if overdue is not None and overdue > settings.health_max_lag:
        problems.append(f"fediverse deliveries are {overdue:.0f} s overdue (is the writer up?)")
    return {
        "followers": state.followers,
        "queue": {
            "pending": state.pending,
            "retrying": state.retrying,
            "claimed": state.claimed,
            "oldest_age": None if state.oldest is None else round(now - state.oldest, 1),
            "overdue": None if overdue is None else round(overdue, 1),
        },
        "delivered": state.delivered,
        "refused": state.refused,
        "dropped": state.dropped,
    }, problems
