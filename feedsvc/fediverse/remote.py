"""Requests to other servers, behind an SSRF guard: http(s) only, no private, loopback,
link-local or otherwise non-global address unless allowed (tests), the address pinned once
resolved (no DNS rebinding between the check and the connection), a deadline for the whole
exchange, a cap on the answer's size, and no redirects followed."""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from feedsvc.fediverse.errors import FetchError

ACTIVITY_JSON = "application/activity+json"
LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ACCEPT = f"{ACTIVITY_JSON}, {LD_JSON}"
USER_AGENT = "feedsvc (ActivityPub)"


@dataclass(frozen=True, slots=True)
class Policy:
    """Where and how long a remote request may go."""

    allow_private: bool = False
    timeout: float = 10.0  # seconds for the whole exchange
    max_bytes: int = 1_048_576


@dataclass(frozen=True, slots=True)
class Answer:
    """A remote server's answer."""

    status: int
    body: bytes
    content_type: str


def _allowed(address: str, policy: Policy) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return policy.allow_private or (ip.is_global and not ip.is_multicast)


def resolve(url: str, policy: Policy) -> tuple[str, int, str]:
    """Return (address to connect to, port, scheme) for `url`; raise FetchError if refused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(url, "not an absolute http(s) URL")
    if parts.username or parts.password:
        raise FetchError(url, "credentials in a URL are refused")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError, UnicodeError) as exc:
        raise FetchError(url, f"cannot resolve the host: {exc}") from None
    addresses = [str(info[4][0]) for info in found]
    if not addresses:
        raise FetchError(url, "the host has no address")
    refused = [a for a in addresses if not _allowed(a, policy)]
    if refused:
        raise FetchError(url, f"refused: {refused[0]} is not a public address")
    return addresses[0], port, parts.scheme


class _Pinned(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    policy: Policy,
) -> Answer:
    """Send one request and return the answer; raise FetchError on any failure to get one."""
    deadline = time.monotonic() + policy.timeout
    address, port, scheme = resolve(url, policy)
    parts = urlsplit(url)
    host = parts.hostname or ""
    kind = _PinnedTLS if scheme == "https" else _Pinned
    connection = kind(host, port, address, policy.timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, target, body=body, headers={"User-Agent": USER_AGENT, **headers})
        response = connection.getresponse()
        length = response.getheader("Content-Length")
        if length is not None and length.isdigit() and int(length) > policy.max_bytes:
            raise FetchError(url, f"the answer is larger than {policy.max_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchError(url, f"no complete answer within {policy.timeout:g} s")
            if connection.sock is not None:
                connection.sock.settimeout(remaining)
            chunk = response.read1(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > policy.max_bytes:
                raise FetchError(url, f"the answer is larger than {policy.max_bytes} bytes")
            chunks.append(chunk)
        return Answer(response.status, b"".join(chunks), response.getheader("Content-Type", ""))
    except TimeoutError:
        raise FetchError(url, f"no answer within {policy.timeout:g} s") from None
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(url, f"{type(exc).__name__}: {exc}") from None
    finally:
        connection.close()


def fetch_json(url: str, headers: Mapping[str, str], policy: Policy) -> dict[str, Any]:
    """GET an ActivityStreams document; raise FetchError unless it is a 200 JSON object."""
    answer = request("GET", url, {"Accept": ACCEPT, **headers}, None, policy)
    if answer.status != 200:
        raise FetchError(url, f"answered {answer.status}", answer.status)
    try:
        document = json.loads(answer.body)
    except ValueError:
        raise FetchError(url, "the answer is not JSON") from None
    if not isinstance(document, dict):
        raise FetchError(url, "the answer is not a JSON object")
    return document
