"""One scan of the seeds folder against the catalog: which files are unchanged, still being
written, set aside or gone for a moment, and reading the rest (each within its budget)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from feedsvc.articles.image_signature import Read, current_sig, sidecar_of, split_sig
from feedsvc.articles.problems import Rejected
from feedsvc.articles.seeds_folder import Listed, read_all
from feedsvc.articles.settling import Settle
from feedsvc.catalog import set_aside
from feedsvc.catalog.dating import Dating
from feedsvc.catalog.ingest_plan import Brief, Seen, must_read
from feedsvc.catalog.set_aside import SetAside


class FolderScan:
    """The folder's files sorted out before any is read, in name order: what is known
    without reading (problems, pending and unchanged files) and the files to read."""

    def __init__(
        self,
        listed: Iterable[Listed],
        briefs: Mapping[str, Brief],
        settle: Settle | None,
        seeds_dir: Path,
        dating: Dating,
        aside: Mapping[str, SetAside] | None = None,
    ) -> None:
        aside = aside or {}
        self.present: set[str] = set()
        self.poisoned: list[tuple[str, str, Rejected]] = []  # files to set aside now
        self.known: list[Seen] = []  # problems and pending files (few)
        self.unchanged: list[str] = []  # keys only: a rescan has 100,000
        # key, path, signature, the image beside the article (as listed)
        self.to_read: list[tuple[str, str, str, str | None]] = []
        self.settle_in: float | None = None  # seconds until the first pending file settles
        self.image_problems: list[Rejected] = []  # images refused (their articles are not)
        for key, path, listed_sig, mtime_ns in listed:
            self.present.add(key)
            if isinstance(listed_sig, Rejected):
                self.known.append(Seen(key, None, listed_sig))
                continue
            brief = briefs.get(key)
            sig = current_sig(listed_sig, brief.file_sig if brief else None, seeds_dir)
            if not must_read(sig, brief):
                self.unchanged.append(key)
            elif (wait := settle.remaining(path, sig, mtime_ns) if settle else 0.0) > 0:
                self.known.append(Seen(key, sig, "pending"))
                self._later(wait)
            elif key in aside and aside[key].file_sig == sig:
                self.known.append(Seen(key, sig, aside[key].rejected(path)))
            else:
                self.to_read.append((key, path, sig, sidecar_of(listed_sig)))
        # A file must stay gone for the settle time before its article is withdrawn.
        self.held: set[str] = set()
        if settle is not None:
            settle.found(self.present)
            for key, brief in briefs.items():
                gone = brief.removed is None and key not in self.present
                if gone and (wait := settle.gone(key)) > 0:
                    self.held.add(key)
                    self._later(wait)
        if any(key not in briefs for key, *_ in self.to_read):
            # New articles take their places in the order they were first published.
            self.to_read.sort(key=lambda item: dating.order(item[0]))

    def _later(self, wait: float) -> None:
        """Note that something settles in `wait` seconds (the writer comes back then)."""
        self.settle_in = wait if self.settle_in is None else min(self.settle_in, wait)

    def files(
        self, max_bytes: int, beat: Callable[[], None], store: Path, budget: float | None = None
    ) -> Iterator[Seen]:
        """Yield the problems and pending files, then each file to read as it is read (its
        signature ending with its image's as it was read). With a `budget`, each file is read
        within that many seconds (a file that takes longer, or crashes its reader, is set
        aside)."""
        yield from self.known
        beat()
        outcomes = read_all(
            [path for _key, path, _sig, _side in self.to_read],
            max_bytes,
            sidecars=[side for _key, _path, _sig, side in self.to_read],
            store=store,
            budget=budget,
        )
        for number, ((key, _path, sig, _side), outcome) in enumerate(
            zip(self.to_read, outcomes, strict=True)
        ):
            if number % 1000 == 999:
                beat()
            if isinstance(outcome, Read):
                if outcome.problem is not None:
                    self.image_problems.append(outcome.problem)
                yield Seen(key, split_sig(sig)[0] + outcome.image_sig, outcome.article)
            else:
                if outcome.code in set_aside.CODES:
                    self.poisoned.append((key, sig, outcome))
                yield Seen(key, sig, outcome)
