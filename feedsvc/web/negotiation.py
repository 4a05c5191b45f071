"""Content negotiation: which of the codings feedsvc offers a client's Accept-Encoding takes."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from feedsvc.support.compress import brotli_bytes, gzip_bytes

# The codings offered, in order of preference (brotli's bodies are the smaller).
ENCODERS: dict[str, Callable[[bytes], bytes]] = {"br": brotli_bytes, "gzip": gzip_bytes}
_WEIGHT = re.compile(r"\s*q\s*=\s*([0-9.]{1,5})\s*$")


# Not werkzeug's parse_accept_header: it would choose differently for headers clients can send
# ("br;q=.5", "gzip;q=1.", "br;q=1.5" are skipped there, "br;q=0.50001" is taken; of a repeated
# coding the best weight wins there, the last one here), so the bytes sent would change. On a warm
# request both cost the same: the answer comes from the lru_cache.
@lru_cache(maxsize=256)
def choose_encoding(accept_encoding: str) -> str | None:
    """Return 'br', 'gzip' or None (identity) for an Accept-Encoding header value."""
    weights: dict[str, float] = {}
    for part in accept_encoding.split(",")[:32]:
        coding, _, params = part.strip().partition(";")
        coding = coding.strip().lower()
        weight = 1.0
        match = _WEIGHT.match(params)
        if params and match:
            try:
                weight = float(match.group(1))
            except ValueError:
                weight = 0.0
        elif params:
            continue
        weights[coding] = weight
    best, best_weight = None, 0.0
    for coding in ENCODERS:
        weight = weights.get(coding, weights.get("*", 0.0))
        if weight > best_weight:
            best, best_weight = coding, weight
    return best
