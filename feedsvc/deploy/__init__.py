"""Deploy: send a static export to where readers fetch it, an S3-compatible bucket
(`s3://BUCKET[/PREFIX]`) or a folder, with the headers the server sends.

Only what changed is sent (plan.py compares the export's manifest with what the target
holds), in the order of publication: what others link to first, then lists and feeds, then
sitemaps, OPML and robots.txt; deletions last, and only after everything else was sent. A
deploy that was interrupted is completed by running it again. One deploy or build of an
export at a time (the export's lock).

What the target holds is what this machine sent there (ledger.py) while the target's marker
names this machine's last deploy: then a deploy reads one small object and compares the
export's manifest with its own record, and costs what changed. Otherwise (no record here,
another machine deployed since, or `verify`) it lists the target and repairs what differs:
objects missing, changed or left over.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from feedsvc.deploy.folder import FolderTarget
from feedsvc.deploy.ledger import folder_for, keep, open_ledger
from feedsvc.deploy.plan import Plan, Target, export_digest, make_plan, wanted
from feedsvc.deploy.sending import CONNECTIONS, apply
from feedsvc.deploy.state import MARKER_LIMIT, MARKER_NAME, SentObject, decode_marker
from feedsvc.errors import DeployError, MissingExtra
from feedsvc.export.manifest import Entry, load
from feedsvc.export.tree import LOCK_WAIT, exclusive
from feedsvc.urlmap.publication import STAGES

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
# Objects sent after which a deploy that need not share its state (continuous publishing)
# writes the target's copy anyway: another machine starts from it, and resends what it lacks.
SHARE_AFTER = 2000
_S3_TARGETS: dict[tuple[str, str | None], Target] = {}
_UNKNOWN = SentObject("", "")  # an object whose bytes are unknown: it is sent or deleted
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
    verified: bool = False  # the target was listed (not trusted from this machine's record)

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
        # One client per bucket and endpoint in a process: making one costs ~0.2 s, more
        # than continuous publishing spends sending a change.
        key = (target, endpoint_url)
        if key not in _S3_TARGETS:
            _S3_TARGETS[key] = S3Target(target, endpoint_url=endpoint_url, connections=CONNECTIONS)
        return _S3_TARGETS[key]
    if "://" in target:
        raise DeployError(target, "is neither s3://BUCKET[/PREFIX] nor a folder")
    return FolderTarget(Path(target), export_dir)


def _changes(plan: Plan) -> tuple[DeployAction, ...]:
    puts = [DeployAction("redirect" if i.redirect else "put", i.key) for i in plan.puts]
    return (*puts, *(DeployAction("delete", key) for key in plan.deletes))


def deploy(
    export_dir: Path,
    target: str,
    *,
    endpoint_url: str | None = None,
    dry_run: bool = False,
    max_deletes: int = MAX_DELETES,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    verify: bool = False,
    share: bool = True,
    state_dir: Path | None = None,
    changed: Mapping[str, Entry] | None = None,
    removed: Collection[str] = (),
) -> DeployReport:
    """Send what changed in the export in `export_dir` to `target`; return what was done.

    `target` is s3://BUCKET[/PREFIX] (boto3's credential chain; `endpoint_url` for another
    S3-compatible service) or a folder. Nothing is deleted, and nothing sent, when more than
    `max_deletes` objects would be deleted. `progress` is called with the number of changes
    made, after `on_total` was told how many there are.

    This machine's record of the target (kept in `state_dir`, by default beside the export) is
    trusted while the target's marker names its last deploy; `verify` lists the target
    anyway (about a second per 1,000 objects) and repairs what another hand changed. `share`
    writes the target's copy of the state after a change (continuous publishing writes it
    every SHARE_AFTER changes only: its size grows with the site).

    `changed` (the manifest entries of the files the export wrote since this target was last
    deployed, a precompressed copy with the file it compresses) and `removed` (the files it
    no longer has) spare a deploy trusting its record the reading of the whole manifest.
    """
    started = time.perf_counter()
    export_dir = export_dir.resolve()
    destination = open_target(target, export_dir, endpoint_url=endpoint_url)
    with exclusive(export_dir, LOCK_WAIT):  # no build swaps the export while it is read
        ledger = open_ledger(state_dir or folder_for(export_dir), target, endpoint_url)
        marker = decode_marker(destination.read(MARKER_NAME, MARKER_LIMIT))
        trusted = not verify and ledger.token is not None and marker == ledger.token
        level = export_digest(export_dir)
        if trusted and level is not None and ledger.level == level:
            # The target holds this very export, as far as this machine knows: done.
            return DeployReport(target, (), len(ledger.records), 0, _since(started), dry_run)
        files = changed if trusted and changed is not None else _manifest(export_dir, target)
        shared: dict[str, SentObject] = {}
        if trusted:
            state = ledger.records
            items, same = wanted(export_dir, files, state)
            gone = None if files is not changed else frozenset(removed) - files.keys()
            plan = make_plan(
                destination.select(items), destination, state, trusted=True, same=same, gone=gone
            )
        else:
            items, same = wanted(export_dir, files)
            items = destination.select(items)
            # Records say with which headers objects were sent, and are checked against a
            # listing. The target's copy may be older than this machine's record (continuous
            # publishing writes it now and then); it wins once another machine deployed.
            shared = destination.load_state()
            mine = ledger.token is not None and marker == ledger.token
            state = shared | ledger.records if mine else ledger.records | shared
            destination.scan([item.key for item in items])
            plan = make_plan(items, destination, state)
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
            if not trusted:
                # What the listing showed: objects as they should be, and others, whose
                # records match nothing, so that a deploy stopped before it put or deleted
                # them leaves the next one to do it even while trusting this record.
                other = dict.fromkeys(plan.present - plan.keep.keys(), _UNKNOWN)
                ledger.replace(marker, other | plan.keep)
            sent = apply(plan, destination, ledger, progress, marker=marker)
            stale = changes or (not trusted and ledger.records != shared)
            if stale and (share or not trusted or ledger.unshared >= SHARE_AFTER):
                destination.save_state(ledger.records)
                ledger.shared()
            if level is not None:
                ledger.levelled(level)
            if ledger.due():
                ledger.fold()
            keep(ledger)
    return DeployReport(
        target=target,
        changes=changes,
        unchanged=plan.unchanged,
        bytes=sent,
        seconds=_since(started),
        dry_run=dry_run,
        verified=not trusted,
    )


def _since(started: float) -> float:
    return time.perf_counter() - started


def _manifest(export_dir: Path, target: str) -> Mapping[str, Entry]:
    manifest = load(export_dir)
    if manifest is None:
        raise DeployError(
            target,
            f"{export_dir} holds no export with a manifest (run `feedsvc build {export_dir}`)",
        )
    return manifest.files
