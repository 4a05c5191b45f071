"""Log files in, lines out: plain or gzipped (a rotated `access.log.2.gz`), or standard input.

Compression is known by the file's first bytes, not its name. A file that cannot be read, a
gzip file cut short (a copy taken while it was written) or corrupt gives what it holds up to the
damage and one reason in the tally's skipped lines; none stops the run.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO, cast

from feedsvc.stats.lines import LineParser
from feedsvc.stats.tally import Tally

_GZIP_MAGIC = b"\x1f\x8b"


def read_stream(tally: Tally, stream: IO[bytes]) -> None:
    """Count every line of one open stream (plain or gzipped) into `tally`."""
    if not isinstance(stream, io.BufferedReader):  # a pipe's or a test's: peek needs a buffer
        stream = io.BufferedReader(cast(io.RawIOBase, stream))
    compressed = stream.peek(2)[:2] == _GZIP_MAGIC
    raw = cast("IO[bytes]", gzip.GzipFile(fileobj=stream)) if compressed else stream
    # Logs are ASCII with escapes; anything else is decoded as well as it goes, never refused.
    text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="\n")
    parser = LineParser()
    add = tally.add_line
    try:
        for line in text:
            add(line, parser)
    except EOFError:
        tally.skipped["gzip files cut short (read up to the cut)"] += 1
    except (gzip.BadGzipFile, zlib.error):
        tally.skipped["corrupt gzip files (read up to the damage)"] += 1
    except OSError as exc:
        tally.skipped[f"files that failed while read ({exc.strerror or exc})"] += 1
    finally:
        text.detach()  # the caller's stream stays open (standard input) or is closed by it
        if compressed:
            raw.close()  # the decompressor only: GzipFile leaves the stream it reads open


def read_logs(tally: Tally, paths: Iterable[Path], stdin: IO[bytes] | None = None) -> None:
    """Count the lines of each file, and of `stdin` where a path is '-'."""
    for path in paths:
        if str(path) == "-" and stdin is not None:
            read_stream(tally, stdin)
            continue
        try:
            opened = path.open("rb")
        except OSError as exc:
            tally.skipped[f"files that cannot be read ({exc.strerror or exc})"] += 1
            continue
        with opened:
            read_stream(tally, opened)
