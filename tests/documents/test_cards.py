"""Preview cards kept on disk: a failed write costs a drawing, never a stray file, and is logged
once per change of state rather than once per card."""

from __future__ import annotations

import errno
import logging
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from feedsvc.documents.cards import Card, CardStore, render_card
from tests.conftest import need

CARDS = [Card(f"Title {n}", "Science", "1 March 2024", "Test News") for n in range(3)]


@contextmanager
def full_tmpfs(folder: Path) -> Iterator[Path]:
    """Mount a 64 KiB tmpfs on `folder`, fill it up, and yield the file that fills it."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("mounting a full filesystem needs root, which CI has")
        pytest.skip("mounting a full filesystem needs root")
    mount, umount = need("mount"), need("umount")
    folder.mkdir()
    subprocess.run([mount, "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], check=True)
    try:
        filler = folder / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            with pytest.raises(OSError, match="No space left") as caught:  # noqa: PT012
                while True:
                    os.write(fd, b"\0" * 4096)
            assert caught.value.errno == errno.ENOSPC
        finally:
            os.close(fd)
        yield filler
    finally:
        subprocess.run([umount, str(folder)], check=True)


def test_a_full_disk_leaves_no_temporary_file_and_logs_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "cards"
    caplog.set_level(logging.INFO, logger="feedsvc.documents.cards")
    with full_tmpfs(folder) as filler:
        store = CardStore(folder)
        for card in CARDS[:2]:
            body = store.get(card)
            assert body == render_card(card)
            assert body.startswith(b"\x89PNG\r\n\x1a\n")
        assert sorted(p.name for p in folder.iterdir()) == ["filler"]  # no .tmp, no torn .png
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert warnings == [
            f"cannot keep preview cards in {folder}: No space left on device; cards are drawn "
            "on every request until there is room (or set FEEDSVC_CARD_DIR to another folder)"
        ]
        filler.unlink()  # room again: the next card is kept, and that is said once too
        store.get(CARDS[2])
        assert (folder / f"{CARDS[2].version}.png").read_bytes() == render_card(CARDS[2])
        assert [p.suffix for p in folder.iterdir()] == [".png"]
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert infos == [f"preview cards are kept in {folder} again"]


def test_a_failed_rename_removes_its_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(source: object, target: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    folder = tmp_path / "cards"
    assert CardStore(folder).get(CARDS[0]) == render_card(CARDS[0])
    assert list(folder.iterdir()) == []
    assert "until the folder is writable" in caplog.text
