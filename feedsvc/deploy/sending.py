"""Making a deploy's plan: a new marker first, the puts stage by stage, deletions last; this
machine's record (ledger.py) told of each change before it is made and after it."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from itertools import groupby

from feedsvc.deploy.ledger import Ledger
from feedsvc.deploy.plan import Item, Plan, Target
from feedsvc.deploy.state import SentObject

CONNECTIONS = 8  # requests in flight to a bucket
_JOURNAL_EVERY = 256  # objects sent between two journal lines within a stage


def _send(
    plan: Plan,
    target: Target,
    ledger: Ledger,
    progress: Callable[[int], None] | None,
) -> int:
    """Send the puts stage by stage, each whole before the next starts. A stage's keys are
    forgotten by the ledger before it starts and noted as they are sent, so running an
    interrupted deploy again resends what it may have left half-done and little else."""
    sent = 0
    stages = [list(group) for _stage, group in groupby(plan.puts, key=lambda i: i.stage)]
    pool = ThreadPoolExecutor(CONNECTIONS, thread_name_prefix="deploy")
    try:
        for group in stages:
            ledger.forget([item.key for item in group])
            done: dict[str, SentObject] = {}
            futures: dict[Future[SentObject], Item] = {pool.submit(target.put, i): i for i in group}
            try:
                for future in as_completed(futures):
                    item = futures[future]
                    done[item.key] = future.result()  # the first failure stops the deploy
                    sent += item.size
                    if progress is not None:
                        progress(1)
                    if len(done) >= _JOURNAL_EVERY:
                        ledger.sent(done)
                        done = {}
            finally:
                ledger.sent(done)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return sent


def _new_token() -> str:
    return secrets.token_hex(16)


def apply(
    plan: Plan,
    target: Target,
    ledger: Ledger,
    progress: Callable[[int], None] | None,
    *,
    marker: str | None,
) -> int:
    """Make the plan's changes under a new marker; return the bytes sent."""
    if not plan.puts and not plan.deletes:
        if marker is None or ledger.token != marker:
            # Verified and nothing to change: mark the target so the next deploy trusts it.
            token = _new_token()
            ledger.begin(token)
            target.save_marker(token)
        return 0
    token = _new_token()
    # The marker first: another machine trusting its own record would miss these changes.
    ledger.begin(token)
    target.save_marker(token)
    sent = _send(plan, target, ledger, progress)
    if plan.deletes:
        ledger.forget(plan.deletes)
        target.delete(plan.deletes)
        if progress is not None:
            progress(len(plan.deletes))
    return sent
