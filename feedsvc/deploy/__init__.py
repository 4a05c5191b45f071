"""Deploy: send a static export to where readers fetch it, an S3-compatible bucket
(`s3://BUCKET[/PREFIX]`) or a folder, with the headers the server sends.

Only what changed is sent (plan.py compares the export's manifest with the target and the
state the last deploy left there, state.py), in the order of publication: what others link
to first, then lists and feeds, then sitemaps, OPML and robots.txt; deletions last, and only
after everything else was sent. A deploy that was interrupted is completed by running it
again. One deploy or build of an export at a time (the export's lock).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Literal

from feedsvc.deploy.folder import FolderTarget
from feedsvc.deploy.plan import STAGES, Item, Plan, Target, make_plan, wanted
from feedsvc.deploy.state import SentObject
from feedsvc.errors import DeployError, MissingExtra
from feedsvc.export.manifest import load
from feedsvc.export.tree import LOCK_WAIT, exclusive

__all__ = [
    "MAX_DELETES",
    "STAGES",
    "DeployAction",
    "DeployReport",
    "deploy",
    "open_target",
    "require_extra",
]

# Deletions a deploy makes without being told it may: far above what a day's news removes (an
# article is five objects), far below what a wrong target or export would (all of it).
MAX_DELETES = 1000
CONNECTIONS = 8  # requests in flight to a bucket
S3_SCHEME = "s3://"  # deploy/s3.py's targets (imported only for them: boto3 is an extra)


@dataclass(frozen=True, slots=True)
class DeployAction:
    """One thing a deploy does (or, in a dry run, would do)."""

    action: Literal["put", "redirect", "delete"]
    key: str


@dataclass(frozen=True, slots=True)
class DeployReport:
    """What a deploy did (or would do)."""

    target: str
    changes: tuple[DeployAction, ...]  # in the order they are made
    unchanged: int
    bytes: int  # sent
    seconds: float
    dry_run: bool = False

    def count(self, action: str) -> int:
        """Return how many changes of one kind (put, redirect, delete) the deploy makes."""
        return sum(change.action == action for change in self.changes)

    @property
    def sent(self) -> int:
        """Return how many objects were (or would be) sent, redirects included."""
        return self.count("put") + self.count("redirect")

    @property
    def deleted(self) -> int:
        """Return how many objects were (or would be) deleted."""
        return self.count("delete")


def require_extra(target: str) -> None:
    """Raise MissingExtra now when `target` needs an optional package that is not installed."""
    if target.startswith(S3_SCHEME) and importlib.util.find_spec("boto3") is None:
        raise MissingExtra("deploying to s3://", "boto3", "s3")


def open_target(target: str, export_dir: Path, *, endpoint_url: str | None = None) -> Target:
    """Return the target a TARGET argument names: s3://BUCKET[/PREFIX] or a folder."""
    if target.startswith(S3_SCHEME):
        try:
            from feedsvc.deploy.s3 import S3Target  # boto3: the s3 extra
        except ModuleNotFoundError as exc:
            if exc.name not in ("boto3", "botocore"):
                raise
            raise MissingExtra("deploying to s3://", "boto3", "s3") from None
        return S3Target(target, endpoint_url=endpoint_url, connections=CONNECTIONS)
    if "://" in target:
        raise DeployError(target, "is neither s3://BUCKET[/PREFIX] nor a folder")
    return FolderTarget(Path(target), export_dir)


def _changes(plan: Plan) -> tuple[DeployAction, ...]:
    puts = [DeployAction("redirect" if i.redirect else "put", i.key) for i in plan.puts]
    return (*puts, *(DeployAction("delete", key) for key in plan.deletes))


def _send(
    plan: Plan,
    target: Target,
    records: dict[str, SentObject],
    progress: Callable[[int], None] | None,
) -> int:
    """Send the puts stage by stage, each whole before the next starts, and save the state
    between stages (so that running an interrupted deploy again resends little)."""
    sent = 0
    stages = [list(group) for _stage, group in groupby(plan.puts, key=lambda i: i.stage)]
    pool = ThreadPoolExecutor(CONNECTIONS, thread_name_prefix="deploy")
    try:
        for number, group in enumerate(stages):
            if number:
                target.save_state(records)
            futures: dict[Future[SentObject], Item] = {pool.submit(target.put, i): i for i in group}
            for future in as_completed(futures):
                item = futures[future]
                records[item.key] = future.result()  # the first failure stops the deploy
                sent += item.size
                if progress is not None:
                    progress(1)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return sent


def deploy(
    export_dir: Path,
    target: str,
    *,
    endpoint_url: str | None = None,
    dry_run: bool = False,
    max_deletes: int = MAX_DELETES,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    verify: bool = True,
) -> DeployReport:
    """Send what changed in the export in `export_dir` to `target`; return what was done.

    `target` is s3://BUCKET[/PREFIX] (boto3's credential chain; `endpoint_url` for another
    S3-compatible service) or a folder. Nothing is deleted, and nothing sent, when more than
    `max_deletes` objects would be deleted. `progress` is called with the number of changes
    made, after `on_total` was told how many there are.

    The target is listed (a bucket's ETags, a folder's files) to check what the last deploy
    left there; `verify=False` trusts that deploy's record instead, which is right while
    feedsvc is the only writer (continuous publishing) and saves the listing: about a second
    per 10,000 objects.
    """
    started = time.perf_counter()
    export_dir = export_dir.resolve()
    destination = open_target(target, export_dir, endpoint_url=endpoint_url)
    with exclusive(export_dir, LOCK_WAIT):  # no build swaps the export while it is read
        manifest = load(export_dir)
        if manifest is None:
            raise DeployError(
                target,
                f"{export_dir} holds no export with a manifest (run `feedsvc build {export_dir}`)",
            )
        items = destination.select(wanted(export_dir, manifest))
        state = destination.load_state()
        trusted = not verify and bool(state)
        if not trusted:
            destination.scan([item.key for item in items])
        plan = make_plan(items, destination, state, trusted=trusted)
        if len(plan.deletes) > max_deletes and not dry_run:
            raise DeployError(
                target,
                f"would delete {len(plan.deletes)} objects, more than --max-deletes "
                f"{max_deletes}; nothing was sent (check the target and the export, or allow "
                f"it with --max-deletes {len(plan.deletes)})",
            )
        changes = _changes(plan)
        sent = 0
        if not dry_run:
            if on_total is not None:
                on_total(len(changes))
            # What the target holds now: kept as it is, or as the last deploy sent it.
            records = {key: state[key] for key in plan.present if key in state}
            records.update(plan.keep)
            sent = _send(plan, destination, records, progress)
            if plan.deletes:
                destination.delete(plan.deletes)
                for key in plan.deletes:
                    records.pop(key, None)
                if progress is not None:
                    progress(len(plan.deletes))
            if records != state:
                destination.save_state(records)
    return DeployReport(
        target=target,
        changes=changes,
        unchanged=len(plan.keep),
        bytes=sent,
        seconds=time.perf_counter() - started,
        dry_run=dry_run,
    )
