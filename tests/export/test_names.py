"""File names of the export: a name the previous build recorded for the same URL is trusted,
any other is checked, and two URLs never share a file."""

from __future__ import annotations

import pytest

from feedsvc.export.names import BuildError, check_names


def test_names_known_for_the_same_path_are_trusted_and_still_unique() -> None:
    known = {"a/index.html": "/a/", "b.xml": "/b.xml"}
    assert check_names(["/a/", "/b.xml"], [], ["_headers"], known) == {
        "a/index.html",
        "b.xml",
        "_headers",
    }
    # A new URL whose file a known one already has is refused all the same.
    with pytest.raises(BuildError, match=r"maps to the file a/index\.html"):
        check_names(["/a/", "/a/index.html"], [], [], known)


@pytest.mark.parametrize("path", ["/../etc/passwd", "/x?page=2", "relative/"])
def test_a_path_the_manifest_does_not_give_is_checked(path: str) -> None:
    # The same file name known for another path proves nothing about this one.
    known = {"x": "/x", "etc/passwd": "/etc/passwd"}
    with pytest.raises(BuildError):
        check_names(["/a/", path], [], [], known)
