"""What a build made, shared by the two ways of writing it (a new tree, or in place): the
report, the manifest entries of rendered files, redirect pages and kept files."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

from feedsvc.export.manifest import Entry
from feedsvc.export.names import DEPLOY_FILES, BuildError, file_name
from feedsvc.export.runner import Chunk
from feedsvc.export.server_config import Exported, deploy_files, deploy_inputs
from feedsvc.export.tree import TreeWriter
from feedsvc.web.frozen import Answer, WebApp, moved, settings_of

SIBLINGS = ((".gz", "gzip"), (".br", "br"))


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did."""

    files: Sequence[Exported]  # every URL's file, in path order
    redirects: tuple[tuple[str, str], ...]
    written: int
    unchanged: int
    removed: int
    bytes: int
    seconds: float
    out_dir: Path = field(default=Path())
    rendered: int = 0  # URLs requested from the app (the rest were current already)
    full: bool = True  # no usable manifest: every URL was requested
    # The manifest entries that differ from the previous build's, and the files it no longer
    # has (a deploy told them need not read the whole manifest); None after a full build.
    changed: Mapping[str, Entry] | None = None
    gone: frozenset[str] = frozenset()


def standing(
    files: Sequence[Exported],
    redirects: list[tuple[str, str]],
    entries: Mapping[str, Entry],
    *,
    out_dir: Path,
    started: float,
) -> BuildReport:
    """Return the report of a build that left the export as it stood (nothing rendered)."""
    return BuildReport(
        files=files,
        redirects=tuple(redirects),
        written=0,
        unchanged=len(entries),
        removed=0,
        bytes=sum(entry.size for entry in entries.values()),
        seconds=time.perf_counter() - started,
        out_dir=out_dir,
        rendered=0,
        full=False,
        changed={},
    )


def entries_of(chunks: list[Chunk], digests: dict[str, str]) -> dict[str, Entry]:
    """Return the manifest entries of what the app rendered in this build."""
    entries: dict[str, Entry] = {}
    for chunk in chunks:
        for item in chunk.files:
            digest = digests.get(item.path, "")
            size, md5 = chunk.sums[item.name]
            entries[item.name] = Entry(
                item.path, digest, size, md5, item.content_type, item.headers
            )
            for suffix, encoding in SIBLINGS:
                if item.name + suffix in chunk.sums:
                    size, md5 = chunk.sums[item.name + suffix]
                    entries[item.name + suffix] = Entry(
                        "", digest, size, md5, item.content_type, item.headers, encoding, item.name
                    )
    return entries


def kept_entries(kept: dict[str, Entry], usable: dict[str, Entry]) -> dict[str, Entry]:
    """Return the entries of the files kept from the previous build, with their siblings."""
    entries: dict[str, Entry] = {}
    for path, entry in kept.items():
        name = file_name(path)
        entries[name] = entry
        for suffix, _encoding in SIBLINGS:
            sibling = usable.get(name + suffix)
            if sibling is not None:
                entries[name + suffix] = sibling
    return entries


def moved_page(app: WebApp, old: str, new: str) -> Answer:
    """Return what a static host serves for an old path: a page that redirects, or a copy."""
    answer = moved(app, old, new)
    if answer.status_code != 200:
        raise BuildError(old, f"stands for {new}, which answers {answer.status}")
    return answer


def exported(path: str, entry: Entry) -> Exported:
    """Return the export's record of a file kept from the previous build."""
    media_type = entry.content_type.split(";", 1)[0].strip()
    return Exported(path, file_name(path), media_type, entry.content_type, entry.headers)


# Each kept file's record as this process made it last, with the entry it was made from: a
# writer building one export again and again keeps nearly every entry object from one build to
# the next, and making every record anew costs a quarter of a second at 54,000 files.
_RECORDS: dict[str, tuple[Entry, Exported]] = {}


def records(
    paths: Iterable[str], kept: Mapping[str, Entry], rendered: Mapping[str, Exported]
) -> list[Exported]:
    """Return the record of each path's file, `rendered` in this build or `kept`."""
    last = _RECORDS
    made: dict[str, tuple[Entry, Exported]] = {}
    files = []
    for path in paths:
        item = rendered.get(path)
        if item is None:
            entry = kept[path]
            known = last.get(path)
            item = known[1] if known is not None and known[0] is entry else exported(path, entry)
            made[path] = (entry, item)
        files.append(item)
    _RECORDS.clear()
    _RECORDS.update(made)
    return files


class KeptRecords(Sequence[Exported]):
    """The records of files kept as they are, made when first read: a build that changed
    nothing is mostly asked how many there are (54,000 records cost 0.2 s)."""

    def __init__(self, kept: Mapping[str, Entry]) -> None:
        self._kept = kept
        self._made: list[Exported] | None = None

    def __len__(self) -> int:
        return len(self._kept)

    @overload
    def __getitem__(self, index: int) -> Exported: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Exported]: ...

    def __getitem__(self, index: int | slice) -> Exported | Sequence[Exported]:
        if self._made is None:
            self._made = records(self._kept, self._kept, {})
        return self._made[index]


def write_beside(
    app: WebApp,
    writer: TreeWriter,
    entries: dict[str, Entry],
    *,
    paths: list[str],
    chunks: list[Chunk],
    kept: Mapping[str, Entry],
    redirects: list[tuple[str, str]],
    digests: dict[str, str],
    root: str,
    previous: Mapping[str, Entry],
    progress: Callable[[int], None] | None = None,
) -> list[Exported]:
    """Write what a static host serves besides the rendered URLs into `writer`, with their
    entries: for each old URL a page that redirects or a copy of the current document
    (frozen.moved; a static host cannot answer 301), then the server files (_headers,
    _redirects, _nginx.conf) unless the `previous` build's were made of the same inputs.
    Return the record of every path's file, rendered (`chunks`) or `kept`, in path order."""
    rendered = {item.path: item for chunk in chunks for item in chunk.files}
    files = records(paths, kept, rendered)
    for old, new in redirects:
        name = file_name(old)
        answer = moved_page(app, old, new)
        writer.write(name, answer.body)
        size, md5 = writer.sums[name]
        entries[name] = Entry(old, digests.get(old, ""), size, md5, answer.content_type, ())
        if progress is not None:
            progress(1)
    site_url = settings_of(app).site.url
    inputs = deploy_inputs(files, redirects, site_url=site_url, root=root)
    if server_files_current(previous, inputs, Path(root)):
        entries |= {name: previous[name] for name in DEPLOY_FILES}
        return files
    for name, body in deploy_files(files, redirects, site_url=site_url, root=root).items():
        writer.write(name, body)
        size, md5 = writer.sums[name]
        entries[name] = Entry("", inputs[name], size, md5, "text/plain; charset=utf-8", ())
    return files


def server_files_current(
    previous: Mapping[str, Entry], inputs: Mapping[str, str], root: Path
) -> bool:
    """Return whether the export's server files were made of `inputs` and are still there."""
    return all(
        name in previous and previous[name].digest == inputs[name] and (root / name).is_file()
        for name in DEPLOY_FILES
    )
