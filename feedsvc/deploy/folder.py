"""A local folder as a deploy target: a plain folder behind nginx (or any web server).

The same plan as for a bucket: files whose bytes differ are copied, each atomically (a
temporary file beside it, renamed over it), in the order of publication; deletions last.
Everything in the export is copied, the precompressed siblings too (nginx's gzip_static
sends them) and `_nginx.conf`, with its `root` pointing at this folder. Dot files in the
folder (`.well-known/`, ...) are never deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from feedsvc.deploy.plan import Item
from feedsvc.deploy.state import MARKER_NAME, STATE_NAME, SentObject, decode, encode, encode_marker
from feedsvc.errors import DeployError

_PART = ".feedsvc-part-"  # temporary files: `.<name>.feedsvc-part-<pid>-<thread>`


def _signature(status: os.stat_result) -> str:
    return f"{status.st_size}:{status.st_mtime_ns}:{status.st_ino}"


def _md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class FolderTarget:
    """A folder on this machine."""

    def __init__(self, root: Path, export_dir: Path) -> None:
        self.name = str(root)
        self.root = root.resolve()
        self.export_dir = export_dir.resolve()
        if self.root == self.export_dir or self.export_dir in self.root.parents:
            raise DeployError(self.name, "is the export folder, or inside it")
        if self.root in self.export_dir.parents:
            raise DeployError(self.name, "holds the export folder")
        self.files: dict[str, os.stat_result] = {}

    def _fail(self, exc: OSError, doing: str) -> DeployError:
        return DeployError(self.name, f"cannot {doing}: {exc.strerror or exc}")

    def select(self, items: list[Item]) -> list[Item]:
        """Return every file; `_nginx.conf` is made to serve this folder, not the export."""
        selected = []
        for item in items:
            if item.key == "_nginx.conf" and item.file is not None:
                body = item.body(self.name)
                for before in ("root {};", "from {},"):
                    old, new = before.format(self.export_dir), before.format(self.root)
                    body = body.replace(old.encode(), new.encode())
                md5 = hashlib.md5(body, usedforsecurity=False).hexdigest()
                item = replace(item, file=None, data=body, md5=md5, size=len(body))
            selected.append(item)
        return selected

    def scan(self, expected: Sequence[str]) -> None:
        """Stat every file in the folder; remove the temporary files of killed deploys."""
        self.files = {}
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            for dirpath, _dirs, names in os.walk(self.root):
                for filename in names:
                    path = Path(dirpath, filename)
                    if filename.startswith(".") and _PART in filename:
                        path.unlink(missing_ok=True)
                        continue
                    status = path.lstat()
                    self.files[path.relative_to(self.root).as_posix()] = status
        except OSError as exc:
            raise self._fail(exc, "read the folder") from None

    def existing(self) -> Iterable[str]:
        """Return the files a deploy may delete (not dot files)."""
        return [key for key in self.files if not any(p.startswith(".") for p in key.split("/"))]

    def check(self, item: Item, record: SentObject | None) -> SentObject | None:
        """A file is current when its bytes are: trusted from the last deploy's record while
        its size, mtime and inode are unchanged, else read and compared."""
        status = self.files.get(item.key)
        if status is None or not stat.S_ISREG(status.st_mode) or status.st_size != item.size:
            return None
        signature = _signature(status)
        if record is not None and record.md5 == item.md5 and record.tag == signature:
            return (
                record if record.meta == item.meta else SentObject(item.md5, signature, item.meta)
            )
        try:
            same = _md5_of(self.root / item.key) == item.md5
        except OSError:
            return None
        return SentObject(item.md5, signature, item.meta) if same else None

    def _write(self, name: str, body: bytes) -> os.stat_result:
        target = self.root / name
        temporary = target.with_name(f".{target.name}{_PART}{os.getpid()}-{threading.get_ident()}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as file:
                file.write(body)
            temporary.chmod(0o644)
            os.replace(temporary, target)
            return target.stat()
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise self._fail(exc, f"write {name}") from None

    def load_state(self) -> dict[str, SentObject]:
        """Return the state of the last deploy, if it is there."""
        try:
            return decode((self.root / STATE_NAME).read_bytes())
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise self._fail(exc, f"read {STATE_NAME}") from None

    def save_state(self, records: dict[str, SentObject]) -> None:
        """Store the state in the folder, as a dot file like the export's manifest."""
        self._write(STATE_NAME, encode(records))

    def save_marker(self, token: str) -> None:
        """Store the marker naming the deploy `token` in the folder, as a dot file."""
        self._write(MARKER_NAME, encode_marker(token))

    def put(self, item: Item) -> SentObject:
        """Copy one file into place, atomically."""
        status = self._write(item.key, item.body(self.name))
        return SentObject(item.md5, _signature(status), item.meta)

    def read(self, key: str, limit: int) -> bytes | None:
        """Return the bytes of one file in the folder, or None when it is not there."""
        try:
            with (self.root / key).open("rb") as file:
                body = file.read(limit + 1)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise self._fail(exc, f"read {key}") from None
        if len(body) > limit:
            raise DeployError(self.name, f"{key} is larger than {limit} bytes")
        return body

    def delete(self, keys: list[str]) -> None:
        """Delete files, then the folders they leave empty."""
        folders: set[Path] = set()
        for key in keys:
            path = self.root / key
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise self._fail(exc, f"delete {key}") from None
            folders.update(p for p in path.parents if self.root in p.parents)
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
