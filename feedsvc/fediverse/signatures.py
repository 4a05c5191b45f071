"""HTTP Signatures as Mastodon uses them (draft-cavage-http-signatures-12, rsa-sha256), with
the SHA-256 `Digest` header of the body (RFC 3230).

Outgoing requests sign `(request-target) host date` (and `digest` with a body). An incoming POST
must cover `(request-target)`, `host`, `date` and `digest`, carry the site's own Host (a request
signed for another server's inbox is not one for ours), a Date within MAX_SKEW of now (either
way) and a Digest that matches its body; only then is the signature checked against the key.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from feedsvc.fediverse.errors import RequestRefused
from feedsvc.fediverse.keys import KeyPair

MAX_SKEW = timedelta(hours=1)  # as Fedify; a replayed request older than this is refused
REQUIRED = ("(request-target)", "host", "date", "digest")
_PARAM = re.compile(r'\s*([a-zA-Z]+)\s*=\s*"([^"]*)"\s*(?:,|$)')
_ALGORITHMS = frozenset({"rsa-sha256", "hs2019"})


def digest(body: bytes) -> str:
    """Return the Digest header value of a body."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def http_date(moment: datetime) -> str:
    """Return an IMF-fixdate (the Date header)."""
    return format_datetime(moment, usegmt=True)


def sign(
    method: str, url: str, body: bytes | None, keys: KeyPair, key_id: str, now: datetime
) -> dict[str, str]:
    """Return the headers that sign a request: Host, Date, Digest (with a body), Signature."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    headers = {"Host": parts.netloc, "Date": http_date(now)}
    covered = ["(request-target)", "host", "date"]
    if body is not None:
        headers["Digest"] = digest(body)
        covered.append("digest")
    lines = [f"(request-target): {method.lower()} {target}"]
    lines += [f"{name}: {headers[name.capitalize()]}" for name in covered[1:]]
    signature = base64.b64encode(keys.sign("\n".join(lines).encode("utf-8"))).decode("ascii")
    headers["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(covered)}",'
        f'signature="{signature}"'
    )
    return headers


@dataclass(frozen=True, slots=True)
class Signed:
    """A request whose form checked out: who claims to have signed it, and what to verify."""

    key_id: str
    signing_string: bytes
    signature: bytes
    sent: datetime  # its Date


def parse_params(value: str) -> dict[str, str]:
    """Return the parameters of a Signature header; raise RequestRefused(400) when malformed."""
    params: dict[str, str] = {}
    position = 0
    while position < len(value):
        match = _PARAM.match(value, position)
        if match is None or match.end() == position:
            raise RequestRefused(400, "the Signature header is malformed")
        params[match.group(1).lower()] = match.group(2)
        position = match.end()
    return params


def check_form(
    method: str,
    target: str,
    header: Callable[[str], str | None],
    body: bytes,
    now: datetime,
    *,
    site_url: str,
) -> Signed:
    """Check a request's Signature, Host, Date and Digest headers (everything but the key).

    `target` is the path with its query; `header` returns a request header by name (the Host
    as the web layer sees it: behind a trusted proxy, the forwarded one); `site_url` is the
    site's URL, whose host the Host must be. Raise RequestRefused: 401 without a signature, for
    another host or with a Date too far from now, 400 when malformed or when the Digest does
    not match the body.
    """
    value = header("Signature")
    if not value:
        raise RequestRefused(401, "the request is not signed (no Signature header)")
    if header("Signature-Input") is not None and "keyId=" not in value:
        # RFC 9421: not verified yet; Fedify and others then sign again with draft-cavage.
        raise RequestRefused(401, "RFC 9421 signatures are not supported: sign with draft-cavage")
    params = parse_params(value[:8192])
    key_id, signature = params.get("keyid"), params.get("signature")
    if not key_id or not signature:
        raise RequestRefused(400, "the Signature header lacks keyId or signature")
    if params.get("algorithm", "hs2019").lower() not in _ALGORITHMS:
        raise RequestRefused(401, f"unsupported signature algorithm {params['algorithm'][:40]!r}")
    covered = params.get("headers", "date").lower().split()
    missing = [name for name in REQUIRED if name not in covered]
    if missing:
        raise RequestRefused(401, f"the signature does not cover {', '.join(missing)}")
    if not same_host(header("Host") or "", site_url):
        raise RequestRefused(
            401, "the request was signed for another host (its Host is not this site's)"
        )
    date = header("Date")
    try:
        sent = parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        sent = None
    if sent is None or sent.tzinfo is None:
        raise RequestRefused(400, "the Date header is missing or malformed")
    if abs(now - sent) > MAX_SKEW:
        raise RequestRefused(
            401, "the Date header is too far from now (a stale or replayed request)"
        )
    if header("Digest") is None:
        raise RequestRefused(400, "the request has no Digest header")
    if not _digest_matches(header("Digest") or "", body):
        raise RequestRefused(400, "the Digest header does not match the body")
    lines = []
    for name in covered:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
            continue
        found = header(name)
        if found is None:
            raise RequestRefused(400, f"the signed header {name!r} is missing")
        lines.append(f"{name}: {found.strip()}")
    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError:
        raise RequestRefused(400, "the signature is not base64") from None
    return Signed(key_id, "\n".join(lines).encode("utf-8"), raw, sent)


def same_host(host: str, site_url: str) -> bool:
    """Return whether a Host header names the site URL's host (and port; a default port may
    be written or not)."""
    parts = urlsplit(site_url)
    default = ":443" if parts.scheme == "https" else ":80"
    return host.strip().lower().removesuffix(default) == parts.netloc.lower().removesuffix(default)


def _digest_matches(value: str, body: bytes) -> bool:
    for part in value.split(","):
        algorithm, _, encoded = part.strip().partition("=")
        if algorithm.lower() == "sha-256":
            return encoded.strip() == digest(body).removeprefix("SHA-256=")
    return False


def verify(public_pem: str, signed: Signed) -> bool:
    """Return whether `signed` carries a valid signature by this RSA public key."""
    try:
        key = serialization.load_pem_public_key(public_pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return False
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signed.signature, signed.signing_string, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
