"""Where a request to another server may go (the SSRF guard): a usable http(s) URL, on port 80
or 443, whose host resolves (within the deadline) only to global addresses; IPv6 forms that
carry an IPv4 address (mapped, compatible, 6to4, NAT64, Teredo) are judged by that address.
FEEDSVC_FEDIVERSE_ALLOW_PRIVATE (tests) lifts the address and port rules, never the URL's."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from feedsvc.fediverse.errors import FetchError

MAX_URL = 2048  # characters; longer URLs are not ones a server hands out
PORTS = (80, 443)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local use, never global


@dataclass(frozen=True, slots=True)
class Policy:
    """Where and how long a remote request may go."""

    allow_private: bool = False
    timeout: float = 10.0  # seconds for the whole exchange, DNS included
    max_bytes: int = 1_048_576


def check_url(url: object, policy: Policy) -> str:
    """Return `url` when a request may be sent to it; raise FetchError (the URL's shape, not
    yet its address) when not: http(s), ASCII without spaces or controls, a host, no
    credentials, at most MAX_URL characters, port 80 or 443 (any when private is allowed)."""
    text = url if isinstance(url, str) else repr(url)[:80]
    if not isinstance(url, str) or not url:
        raise FetchError(text, "not a URL")
    if len(url) > MAX_URL:
        raise FetchError(url, f"a URL longer than {MAX_URL} characters")
    if not url.isascii() or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise FetchError(url, "a URL with non-ASCII, space or control characters")
    parts = _split(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(url, "not an absolute http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise FetchError(url, "credentials in a URL are refused")
    port = _port(url, parts)
    if not policy.allow_private and port not in PORTS:
        raise FetchError(url, f"refused: port {port} (only 80 and 443)")
    return url


def _split(url: str) -> SplitResult:
    try:
        return urlsplit(url)
    except ValueError:
        raise FetchError(url, "a malformed URL") from None


def _port(url: str, parts: SplitResult) -> int:
    try:
        port = parts.port
    except ValueError:
        raise FetchError(url, "a URL with a malformed port") from None
    return port or (443 if parts.scheme == "https" else 80)


def _embedded(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Return the IPv4 addresses an IPv6 address stands for (none for a plain IPv6 one)."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    if ip in _NAT64 or ip.packed[:12] == bytes(12):  # NAT64, or IPv4-compatible (::a.b.c.d)
        return [ipaddress.IPv4Address(ip.packed[12:])]
    return []


def allowed(address: str, policy: Policy) -> bool:
    """Return whether a resolved address may be connected to."""
    if policy.allow_private:
        return True
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _LOCAL_NAT64:
            return False
        if not all(v4.is_global and not v4.is_multicast for v4 in _embedded(ip)):
            return False
    return ip.is_global and not ip.is_multicast


def _getaddrinfo(url: str, host: str, port: int, deadline: float) -> list[str]:
    """Resolve in a helper thread, waiting no longer than the deadline (the system resolver
    has no timeout of its own); a literal address needs no lookup."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    found: list[list[str] | BaseException] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            found.append([str(info[4][0]) for info in infos])
        except (OSError, UnicodeError, ValueError) as exc:
            found.append(exc)

    thread = threading.Thread(target=lookup, name="fediverse-dns", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if not found:  # the thread ends when the resolver gives up; nobody waits for it
        raise FetchError(url, "the host did not resolve in time")
    result = found[0]
    if isinstance(result, BaseException):
        raise FetchError(url, f"cannot resolve the host: {result}")
    return result


def check_literal(url: object, policy: Policy) -> str:
    """Return `url` unless check_url refuses it or its host is an address that may not be
    connected to; a host name is left for resolve (a lookup may wait on the network)."""
    checked = check_url(url, policy)
    host = urlsplit(checked).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return checked
    if not allowed(host, policy):
        raise FetchError(checked, f"refused: {host} is not a public address")
    return checked


def resolve(url: str, policy: Policy, deadline: float | None = None) -> tuple[str, int, str]:
    """Return (address to connect to, port, scheme) for `url`; raise FetchError if refused."""
    check_url(url, policy)
    parts = urlsplit(url)
    port = _port(url, parts)
    if deadline is None:
        deadline = time.monotonic() + policy.timeout
    addresses = _getaddrinfo(url, parts.hostname or "", port, deadline)
    if not addresses:
        raise FetchError(url, "the host has no address")
    refused = [a for a in addresses if not allowed(a, policy)]
    if refused:
        raise FetchError(url, f"refused: {refused[0]} is not a public address")
    return addresses[0], port, parts.scheme
