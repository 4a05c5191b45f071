"""The running server's state, shared between its processes through small files, and the
health verdict made from it (framework-free: /healthz and `feedsvc status` both ask here).

The writer and its supervisor each keep a JSON file in the run folder (by default apart from
the catalog's disk, so a full catalog disk cannot silence them), replaced atomically.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedsvc.catalog.schema import parse_time
from feedsvc.catalog.watch import CatalogState
from feedsvc.config.settings import Settings

log = logging.getLogger(__name__)

WRITER, SUPERVISOR, SERVER_ERRORS = "writer.json", "supervisor.json", "server-errors.json"
CATALOG = "catalog.json"  # which catalog serve started with: workers serve no other


_FAILING: set[Path] = set()  # state files that could not be written (logged once)


def write_state(folder: Path, name: str, state: dict[str, Any]) -> bool:
    """Replace one state file; return False (never raise) when it cannot be written.

    A failure is logged once (and its end once): health cannot see this process meanwhile.
    """
    temporary = folder / f".{name}.{os.getpid()}.tmp"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
        os.replace(temporary, folder / name)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        if folder / name not in _FAILING:
            _FAILING.add(folder / name)
            log.warning(
                "cannot write %s: %s; /healthz and `feedsvc status` cannot see this process "
                "until it can (check FEEDSVC_RUN_DIR)",
                folder / name,
                exc.strerror or exc,
            )
        return False
    if folder / name in _FAILING:
        _FAILING.discard(folder / name)
        log.info("%s is written again", folder / name)
    return True


def note_server_error(folder: Path, status: int, path: str) -> None:
    """Remember that a server answered `status` (5xx) for `path`: health shows it for a while."""
    now = time.time()
    before = read_state(folder, SERVER_ERRORS) or {}
    count = int(before.get("count", 0)) + 1
    since = before.get("since", now)
    write_state(
        folder,
        SERVER_ERRORS,
        {"status": status, "path": path[:200], "last": now, "count": count, "since": since},
    )


def read_state(folder: Path, name: str) -> dict[str, Any] | None:
    """Return one state file's content, or None when there is none (or it is unreadable)."""
    try:
        value = json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def alive(pid: object) -> bool:
    """Return whether a process with this id runs (a zombie counts as gone)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def iso(seconds: float | None) -> str | None:
    """Return a Unix time as RFC 3339 UTC text."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def health(settings: Settings, catalog: CatalogState, now: float | None = None) -> dict[str, Any]:
    """Return the health document; its "status" is "ok" while publishing works."""
    now = time.time() if now is None else now
    problems: list[str] = []
    if catalog.state != "ok":
        problems.append(f"catalog {catalog.state}: {catalog.detail}".rstrip(": "))
    writer = read_state(settings.runtime, WRITER)
    supervisor = read_state(settings.runtime, SUPERVISOR)
    lag = settings.health_max_lag
    if supervisor is None or supervisor.get("state") == "disabled":
        writer_doc: dict[str, Any] = {"state": "disabled" if supervisor else "unknown"}
    else:
        writer_doc = {
            "state": supervisor.get("state"),
            "pid": supervisor.get("writer_pid"),
            "restarts": supervisor.get("restarts", 0),
            "last_exit": supervisor.get("last_exit"),
        }
        if not alive(supervisor.get("pid")):
            problems.append("the server that supervises the writer is not running")
        elif supervisor.get("state") != "running":
            problems.append(f"writer {supervisor.get('state')}: {supervisor.get('last_exit')}")
    if writer is not None and writer_doc["state"] not in ("disabled", "unknown"):
        beat = float(writer.get("heartbeat", 0))
        behind = writer.get("behind_since")
        writer_doc |= {
            "last_ingest": iso(writer.get("last_ingest")),
            "last_change": iso(writer.get("last_change")),
            "last_error": writer.get("last_error"),
            "error_since": iso(writer.get("error_since")),
            "pending": writer.get("pending", 0),
            "behind_since": iso(behind),
            "heartbeat_age": round(now - beat, 1),
        }
        if now - beat > lag:
            problems.append(f"the writer has given no sign of life for {now - beat:.0f} s")
        if writer.get("last_error"):
            problems.append(f"ingest failing: {writer['last_error']}")
        if behind is not None and now - float(behind) > lag:
            problems.append(f"changes seen {now - float(behind):.0f} s ago are not published yet")
        if writer.get("deploy_target"):
            backlog = writer.get("deploy_backlog_since")
            writer_doc |= {
                "deploy_target": writer["deploy_target"],
                "last_deploy": iso(writer.get("last_deploy")),
                "deploy_error": writer.get("deploy_error"),
                "deploy_backlog_since": iso(backlog),
            }
            if writer.get("deploy_error"):
                problems.append(f"deploy failing: {writer['deploy_error']}")
            if backlog is not None and now - float(backlog) > lag:
                problems.append(f"changes of {now - float(backlog):.0f} s ago are not deployed")
    errors = read_state(settings.runtime, SERVER_ERRORS)
    if errors is not None and now - float(errors.get("last", 0)) <= lag:
        problems.append(
            f"answered {errors.get('status')} to {errors.get('path')} at "
            f"{iso(errors.get('last'))} ({errors.get('count')} server errors since "
            f"{iso(errors.get('since'))}): see the log"
        )
    from feedsvc.fediverse.health import fediverse_health  # only its health, not its crypto

    fediverse_doc, fediverse_problems = fediverse_health(settings, now)
    problems += fediverse_problems
    return {
        "status": "ok" if not problems else "failing",
        "problems": problems,
        "warnings": _clock_behind(catalog.changed, now)
        + [
            f"article {key} is left out of every page and feed: its catalog row cannot be read "
            f"({reason}); re-save its file, or `feedsvc restore` a backup"
            for key, reason in catalog.left_out
        ],
        "catalog": {
            "path": str(settings.database),
            "state": catalog.state,
            "generation": catalog.generation,
            "articles": catalog.articles,
            "changed": catalog.changed,
            # Files whose reading was stopped or crashed: published again once they change.
            "set_aside": [
                {
                    "file": f"{item.key}.txt",
                    "code": item.code,
                    "reason": item.reason,
                    "since": item.since,
                }
                for item in catalog.set_aside
            ],
        },
        "writer": writer_doc,
        **({"fediverse": fediverse_doc} if fediverse_doc is not None else {}),
        "checked": iso(now),
    }


def _clock_behind(changed: str | None, now: float) -> list[str]:
    """Say when this clock is behind the last change the catalog recorded (an NTP step, a
    restored VM): serving and publishing go on (changes are dated just after that change, so
    readers' dates never move back), but an operator wants to know."""
    if changed is None:
        return []
    try:
        ahead = parse_time(changed).timestamp() - now
    except ValueError:
        return []
    if ahead <= 1.0:
        return []
    return [
        f"the clock is {ahead:.0f} s behind the last change the catalog recorded "
        f"({changed}): changes are dated just after it until the clock catches up; check "
        "the time service (NTP)"
    ]
