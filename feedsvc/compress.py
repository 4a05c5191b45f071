"""Compressors shared by the HTTP edge and the static export: deterministic bytes out."""

from __future__ import annotations

import gzip

import brotli


def gzip_bytes(body: bytes) -> bytes:
    """Return `body` gzip-compressed, deterministically (no timestamp)."""
    return gzip.compress(body, compresslevel=9, mtime=0)


def brotli_bytes(body: bytes) -> bytes:
    """Return `body` brotli-compressed."""
    return bytes(brotli.compress(body, quality=11 if len(body) < 256 * 1024 else 9))
