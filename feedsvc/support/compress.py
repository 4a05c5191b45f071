"""Compressors shared by the HTTP edge and the static export: deterministic bytes out."""

from __future__ import annotations

import struct
import zlib

import brotli

_GZIP_LEVEL = 9
# RFC 1952 header: magic, deflate, no flags, MTIME 0 (none), XFL 2 (best compression), OS 255
# (unknown). Written here rather than by gzip.compress(mtime=0): Python 3.11 and 3.12 let zlib
# write the OS byte there (3 on Linux, 19 on macOS, 10 on Windows), so the same body gave other
# bytes on another machine or Python.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


def gzip_bytes(body: bytes) -> bytes:
    """Return `body` gzip-compressed, deterministically (no timestamp, no OS)."""
    deflated = zlib.compress(body, level=_GZIP_LEVEL, wbits=-15)  # raw deflate
    trailer = struct.pack("<LL", zlib.crc32(body), len(body) & 0xFFFFFFFF)
    return _GZIP_HEADER + deflated + trailer


def brotli_bytes(body: bytes) -> bytes:
    """Return `body` brotli-compressed."""
    # Every parameter given: the bytes must not follow a change of the library's defaults.
    return bytes(
        brotli.compress(
            body,
            mode=brotli.MODE_GENERIC,
            quality=11 if len(body) < 256 * 1024 else 9,
            lgwin=22,
            lgblock=0,
        )
    )
