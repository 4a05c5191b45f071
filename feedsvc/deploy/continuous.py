"""Continuous publishing: after each catalog change the writer brings the static export up to
date, deploys it, and only then tells WebSub hubs which feeds changed, so a hub that fetches
at once gets the new bytes from where readers fetch them.

It runs inside the writer (`feedsvc watch --deploy TARGET`, `feedsvc serve --deploy TARGET`),
never in a web request. A failed build or deploy is logged once per reason, retried with the
writer's backoff, and shown in health as the deploy backlog; the feeds to ping wait with it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from feedsvc.config.settings import Settings
from feedsvc.errors import FeedsvcError

if TYPE_CHECKING:
    from feedsvc.export.manifest import Entry
    from feedsvc.export.rendered import BuildReport
    from feedsvc.web.frozen import WebApp

log = logging.getLogger(__name__)


class Publisher:
    """Export, deploy, then ping: in that order, with a backlog that survives failures."""

    def __init__(
        self,
        settings: Settings,
        ping: Callable[[list[str]], None] | None = None,
        heartbeat: Callable[[], None] | None = None,
    ) -> None:
        assert settings.deploy_target is not None
        self.settings = settings
        self.target = settings.deploy_target
        self.ping = ping
        self.heartbeat = heartbeat or (lambda: None)
        self._app: WebApp | None = None
        self._feeds: list[str] = []
        # What the builds changed since the last deploy that worked (None: unknown, the deploy
        # reads the whole manifest), and the export as this publisher's last build left it.
        self._changed: dict[str, Entry] | None = None
        self._gone: set[str] = set()
        self._left: str | None = None
        self._warm = False  # a first build read everything this process keeps for the next
        self.failures = 0  # in a row
        self.state: dict[str, Any] = {
            "deploy_target": self.target,
            "last_deploy": None,
            "deploy_error": None,
            "deploy_backlog_since": None,
        }

    @property
    def backlog(self) -> bool:
        """Return whether changes wait to be deployed."""
        return self.state["deploy_backlog_since"] is not None

    def changed(self, feeds: Iterable[str]) -> None:
        """Note that the catalog changed: these feeds are to be pinged once deployed."""
        for feed in feeds:
            if feed not in self._feeds:
                self._feeds.append(feed)
        self.state["deploy_backlog_since"] = self.state["deploy_backlog_since"] or time.time()

    def _app_for_export(self) -> WebApp:
        if self._app is None:
            from feedsvc.web.frozen import app_for

            self._app = app_for(replace(self.settings, access_log=False))
        return self._app

    def publish(self) -> bool:
        """Export and deploy what changed, then ping; return False (logged) on a failure."""
        from feedsvc.deploy import deploy
        from feedsvc.deploy.plan import export_digest
        from feedsvc.export.builder import build

        beat = self.heartbeat
        out_dir = self.settings.export_dir
        try:
            if self._left is None or export_digest(out_dir) != self._left:
                self._changed = None  # another build wrote the export meanwhile
            # The first build reads the catalog and manifest through even when the export
            # stands as built: the first change after a start then costs what later ones do.
            app = self._app_for_export()
            built = build(app, out_dir, progress=lambda _n: beat(), warm=not self._warm)
            self._warm = True
            self._left = export_digest(out_dir)
            self._note(built)
            sent = deploy(
                out_dir,
                self.target,
                endpoint_url=self.settings.s3_endpoint,
                progress=lambda _n: beat(),
                # A change costs what it changes: the target's copy of the state (as large
                # as the site) is written every deploy.SHARE_AFTER objects, not each time.
                share=False,
                changed=self._changed,
                removed=self._gone,
            )
        except FeedsvcError as exc:
            self.failures += 1
            reason = str(exc)
            if reason != self.state["deploy_error"]:
                log.error(
                    "deploy failed: %s. Readers keep the last deployed version; the writer "
                    "retries, and hubs are told once the new bytes are there.",
                    reason,
                )
            self.state["deploy_error"] = reason
            return False
        if self.state["deploy_error"] is not None:
            log.info("deploy works again")
        self.failures = 0
        self._changed, self._gone = {}, set()
        log.info(
            "published to %s: %d URLs rendered, %d objects sent, %d deleted",
            self.target,
            built.rendered,
            sent.sent,
            sent.deleted,
        )
        self.state |= {
            "last_deploy": time.time(),
            "deploy_error": None,
            "deploy_backlog_since": None,
        }
        feeds, self._feeds = self._feeds, []
        if self.ping is not None and feeds:
            self.ping(feeds)
        return True

    def _note(self, built: BuildReport) -> None:
        """Add what a build changed to what waits to be deployed."""
        if built.changed is None or self._changed is None:
            self._changed = None
            return
        for name in built.gone:
            self._changed.pop(name, None)
        self._gone = (self._gone - built.changed.keys()) | built.gone
        self._changed |= built.changed
