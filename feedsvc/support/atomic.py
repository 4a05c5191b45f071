"""Writing a file so that readers see the old bytes or the new ones, never a part."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename.

    A full disk still creates the (empty) temporary file and fails at the write or the flush:
    the temporary file is removed and the error raised, `path` is left as it was.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # the failure being raised is the one to report
            os.unlink(tmp)
        raise
