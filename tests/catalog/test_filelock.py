"""Locks taken with a bounded wait: the catalog's writer lock (and the export's build lock)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedsvc.catalog.lock import writer_lock
from feedsvc.catalog.paths import lock_file
from feedsvc.errors import CatalogError
from feedsvc.support.filelock import open_lock, take_exclusive


@pytest.fixture
def held(tmp_path: Path) -> Iterator[Path]:
    """Hold an exclusive lock on a file, as another process would; yield its path."""
    path = tmp_path / "x.lock"
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        yield path
    finally:
        os.close(descriptor)


def test_a_free_lock_is_taken_at_once_without_a_word(tmp_path: Path) -> None:
    told: list[None] = []
    descriptor = open_lock(tmp_path / "x.lock")
    try:
        assert take_exclusive(descriptor, wait=0, on_wait=lambda: told.append(None))
    finally:
        os.close(descriptor)
    assert told == []
    assert (tmp_path / "x.lock").exists()  # the file stays


def test_a_held_lock_is_waited_for_with_one_word_then_given_up(held: Path) -> None:
    told: list[None] = []
    descriptor = open_lock(held)
    try:
        taken = take_exclusive(descriptor, wait=0.12, on_wait=lambda: told.append(None), poll=0.05)
    finally:
        os.close(descriptor)
    assert not taken
    assert told == [None]


def test_no_wait_means_no_word(held: Path) -> None:
    told: list[None] = []
    descriptor = open_lock(held)
    try:
        assert not take_exclusive(descriptor, wait=0, on_wait=lambda: told.append(None))
    finally:
        os.close(descriptor)
    assert told == []


def test_an_unopenable_lock_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="No such file"):
        open_lock(tmp_path / "missing" / "x.lock")


def test_the_writer_lock_refuses_a_second_writer_with_a_clear_word(tmp_path: Path) -> None:
    database = tmp_path / "instance" / "feedsvc.sqlite3"
    with writer_lock(database):
        assert lock_file(database).exists()  # its folder made on the way
        with (
            pytest.raises(CatalogError, match="another feedsvc process is writing it"),
            writer_lock(database),
        ):
            pass
    with writer_lock(database):  # released on leaving the block
        pass
