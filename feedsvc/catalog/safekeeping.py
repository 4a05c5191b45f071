"""Writing the catalog without ever losing it: one writer at a time, no silent new catalog,
ids that survive a rebuild, backups on a schedule.

Every write of the catalog (the CLI's ingest, serve's writer, a restore) goes through here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from feedsvc.catalog import Catalog, format_time, open_catalog
from feedsvc.catalog.backups import list_backups, restore_into, take_backup
from feedsvc.catalog.dating import Dating
from feedsvc.catalog.deployed import DeployedRecord
from feedsvc.catalog.identity import from_setting, mint, read_file, write_file
from feedsvc.catalog.ingest import IngestReport, Settle, ingest
from feedsvc.catalog.lock import writer_lock
from feedsvc.catalog.paths import identity_file
from feedsvc.catalog.place import FileIdentity, check_opened, check_same_file, file_identity
from feedsvc.config.settings import Settings
from feedsvc.errors import CatalogError

log = logging.getLogger(__name__)


def open_for_writing(settings: Settings) -> Catalog:
    """Open the catalog for writing; create it only when it never existed (no backups)."""
    path = settings.database
    create = not path.exists() and not list_backups(path)
    return open_catalog(path, create=create, keep_backups=settings.backups)


def publication_of(settings: Settings, stored: str | None) -> str | None:
    """Return the identity this publication's ids are minted from, as far as it is known
    before minting: FEEDSVC_PUBLICATION_ID's, the catalog's (`stored`), or the one kept beside
    the catalog (None: none yet, a fresh machine)."""
    configured = from_setting(settings.publication_id) if settings.publication_id else None
    return configured or stored or read_file(identity_file(settings.database))


def identity_for(
    settings: Settings, catalog: Catalog, today: datetime, dating: Dating | None = None
) -> str:
    """Return the identity a new catalog takes, or check the one it has against the settings.

    FEEDSVC_PUBLICATION_ID wins; else the identity kept beside the catalog (a rebuilt catalog
    mints the ids it had); else the deployed site's; else a new one is minted (from the site's
    host and the first commit of the articles' history, or `today`) and kept there. A deployed
    record of another publication is refused.
    """
    dating = dating or Dating()
    configured = from_setting(settings.publication_id) if settings.publication_id else None
    stored = catalog.meta("identity")
    kept_path = identity_file(settings.database)
    kept = read_file(kept_path)
    record = dating.record
    ours = publication_of(settings, stored)
    if record is not None and ours is not None and record.publication != ours:
        raise CatalogError(
            str(settings.database),
            f"the deployed site was published as {record.publication!r}, this catalog as "
            f"{ours!r}: deploy to the right target, or pass --no-adopt to mint new ids",
        )
    if stored is not None:
        if configured is not None and configured != stored:
            raise CatalogError(
                str(settings.database),
                f"its ids were minted from {stored!r} but FEEDSVC_PUBLICATION_ID is "
                f"{settings.publication_id!r}: ids never change, so unset the setting or "
                "make it match",
            )
        if kept is None:
            write_file(kept_path, stored)
        return stored
    identity = ours or (record.publication if record is not None else None)
    identity = identity or mint(settings.site.host, dating.first_date() or today)
    if kept != identity:
        write_file(kept_path, identity)
        log.info(
            "publication id %s kept in %s (keep that file with the catalog)", identity, kept_path
        )
    return identity


def backup_due(settings: Settings, catalog: Catalog, now: datetime) -> bool:
    """Return whether the schedule asks for a backup now: none yet (once the catalog holds an
    article), or the newest is older than FEEDSVC_BACKUP_HOURS and the catalog changed since."""
    if settings.backups == 0 or catalog.slots() == 0:
        return False  # no article yet: no dates to keep
    backups = list_backups(settings.database)
    if not backups:
        return True
    newest = backups[0]
    old = now - newest.taken >= timedelta(hours=settings.backup_hours)
    changed = catalog.meta("changed")
    return old and changed is not None and changed > format_time(newest.taken)


def run_ingest(
    settings: Settings,
    *,
    settle: Settle | None = None,
    wait: float = 60.0,
    on_wait: Callable[[], None] | None = None,
    known: FileIdentity | None = None,
    progress: Callable[[], None] | None = None,
    now: datetime | None = None,
    adopt: DeployedRecord | None = None,
) -> tuple[IngestReport, FileIdentity]:
    """Ingest the seeds folder once under the writer lock; take a backup when one is due.

    `known` is the catalog file the caller wrote before (see check_same_file). Returns the
    report and the file written.
    """
    moment = now or datetime.now(UTC)
    dating = Dating(settings.seeds_dir, git=settings.git_dates, record=adopt)
    with writer_lock(settings.database, wait=wait, on_wait=on_wait):
        status = check_same_file(settings, known)
        catalog = open_for_writing(settings)
        try:
            check_opened(catalog, known)
            report = ingest(
                catalog,
                settings.seeds_dir,
                identity=identity_for(settings, catalog, moment, dating),
                dating=dating,
                now=moment,
                max_bytes=settings.max_file_kb * 1024,
                tombstone_days=settings.tombstone_days,
                settle=settle if settle is not None else Settle(settings.settle_ms / 1000),
                progress=progress,
                budget=settings.file_seconds,
            )
            written = file_identity(catalog, status)
            moment = datetime.now(UTC)  # backups are named and scheduled by the real clock
            if backup_due(settings, catalog, moment):
                try:
                    take_backup(
                        catalog.connection,
                        settings.database,
                        reason="scheduled",
                        keep=settings.backups,
                        now=moment,
                    )
                except CatalogError as exc:
                    log.error("%s (the catalog itself is fine; the next ingest tries again)", exc)
        finally:
            catalog.close()
    return report, written


def backup_now(settings: Settings) -> str:
    """Take a backup of the catalog now; return its path."""
    with writer_lock(settings.database, wait=60.0):
        catalog = open_catalog(settings.database, readonly=True)
        try:
            backup = take_backup(
                catalog.connection,
                settings.database,
                reason="manual",
                keep=settings.backups,
                now=datetime.now(UTC),
            )
        finally:
            catalog.close()
    return str(backup.path)


def restore(settings: Settings, name: str | None = None) -> str:
    """Bring back a backup (the newest, or the one named); return its path."""
    backups = list_backups(settings.database)
    if not backups:
        raise CatalogError(str(settings.database), "has no backups to restore")
    chosen = backups[0]
    if name is not None:
        matches = [b for b in backups if name in (b.path.name, str(b.path))]
        if not matches:
            raise CatalogError(
                name, "is not one of the catalog's backups (see `feedsvc restore --list`)"
            )
        chosen = matches[0]
    with writer_lock(settings.database, wait=60.0):
        if settings.database.exists():
            try:
                current = open_catalog(settings.database, readonly=True)
                try:
                    take_backup(
                        current.connection,
                        settings.database,
                        reason="before-restore",
                        keep=len(backups) + 1,  # the chosen one must not be pruned now
                        now=datetime.now(UTC),
                    )
                finally:
                    current.close()
            except CatalogError as exc:
                log.warning("the current catalog could not be backed up first: %s", exc)
        restore_into(chosen.path, settings.database)
    return str(chosen.path)


def ingest_settled(
    settings: Settings,
    patience: float = 30.0,
    on_wait: Callable[[], None] | None = None,
    *,
    adopt: DeployedRecord | None = None,
    now: datetime | None = None,
) -> tuple[IngestReport, FileIdentity]:
    """Ingest; while files are still being written, wait for them (bounded) and go again.

    `adopt` is the record of what a deployed site published (ids, dates, slugs taken over
    for articles the catalog lacks). Returns the report and the catalog file written."""
    deadline = time.monotonic() + patience
    # One Settle for every round: it remembers when a file dated in the future was first seen.
    settle = Settle(settings.settle_ms / 1000)
    report, known = run_ingest(settings, on_wait=on_wait, adopt=adopt, now=now, settle=settle)
    while report.pending and time.monotonic() < deadline:
        time.sleep(min(report.settle_in or 0.1, max(0.0, deadline - time.monotonic())) + 0.02)
        again, known = run_ingest(
            settings, on_wait=on_wait, known=known, adopt=adopt, now=now, settle=settle
        )
        report = merged(report, again)
    return report, known


def merged(first: IngestReport, second: IngestReport) -> IngestReport:
    """Return what two ingests in a row did together (the second's view of what is left)."""
    return IngestReport(
        added=first.added + second.added,
        changed=first.changed + second.changed,
        unchanged=tuple(k for k in second.unchanged if k not in second.added + first.added),
        removed=first.removed + second.removed,
        renamed=first.renamed + second.renamed,
        rejected=second.rejected,
        sections=first.sections | second.sections,
        members=first.members | second.members,
        tombstones_expired=first.tombstones_expired or second.tombstones_expired,
        pending=second.pending,
        settle_in=second.settle_in,
    )
