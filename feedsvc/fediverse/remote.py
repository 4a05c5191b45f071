"""Requests to other servers, behind the address guard (addresses.py): the address pinned
once resolved (no DNS rebinding between the check and the connection), one deadline for the
whole exchange (DNS, connect, TLS, headers and body: every socket operation waits at most what
is left of it, and a watchdog cuts the connection when it passes, so a server trickling its
answer a byte at a time cannot hold a request longer), a cap on the answer's size, and no
redirects followed."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from feedsvc.fediverse.addresses import Policy, check_url, resolve
from feedsvc.fediverse.errors import FetchError

__all__ = ["Answer", "Policy", "check_url", "fetch_json", "request", "resolve"]

ACTIVITY_JSON = "application/activity+json"
LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ACCEPT = f"{ACTIVITY_JSON}, {LD_JSON}"
USER_AGENT = "feedsvc (ActivityPub)"


@dataclass(frozen=True, slots=True)
class Answer:
    """A remote server's answer."""

    status: int
    body: bytes
    content_type: str


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
        context: ssl.SSLContext = self._context  # type: ignore[attr-defined]
        # The handshake runs after self.sock is set, so the watchdog can cut a slow one too.
        self.sock = context.wrap_socket(
            raw, server_hostname=self.host, do_handshake_on_connect=False
        )
        self.sock.do_handshake()


def _left(url: str, deadline: float, policy: Policy) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError(url, f"no complete answer within {policy.timeout:g} s")
    return remaining


def _cut(connection: http.client.HTTPConnection, fired: threading.Event) -> None:
    """End a connection whose deadline passed: a blocked read then returns at once."""
    fired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # closed already
            sock.shutdown(socket.SHUT_RDWR)


def request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    policy: Policy,
    deadline: float | None = None,
) -> Answer:
    """Send one request and return the answer; raise FetchError on any failure to get one.
    The exchange ends by `deadline` (time.monotonic()) when given, else `policy.timeout`
    from now, whichever is sooner."""
    own = time.monotonic() + policy.timeout
    deadline = own if deadline is None else min(deadline, own)
    address, port, scheme = resolve(url, policy, deadline)
    parts = urlsplit(url)
    kind = _PinnedTLS if scheme == "https" else _Pinned
    connection = kind(parts.hostname or "", port, address, _left(url, deadline, policy))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    fired = threading.Event()
    watchdog = threading.Timer(deadline - time.monotonic(), _cut, (connection, fired))
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.connect()  # connect (and TLS) wait at most what is left
        _wait_at_most(connection, _left(url, deadline, policy))
        connection.request(method, target, body=body, headers={"User-Agent": USER_AGENT, **headers})
        _wait_at_most(connection, _left(url, deadline, policy))
        response = connection.getresponse()
        length = response.getheader("Content-Length")
        if length is not None and length.isdigit() and int(length) > policy.max_bytes:
            raise FetchError(url, f"the answer is larger than {policy.max_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            _wait_at_most(connection, _left(url, deadline, policy))
            chunk = response.read1(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > policy.max_bytes:
                raise FetchError(url, f"the answer is larger than {policy.max_bytes} bytes")
            chunks.append(chunk)
        if fired.is_set():  # cut short: what was read may look complete and is not
            raise FetchError(url, f"no complete answer within {policy.timeout:g} s")
        return Answer(response.status, b"".join(chunks), response.getheader("Content-Type", ""))
    except FetchError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if fired.is_set() or isinstance(exc, TimeoutError) or time.monotonic() >= deadline:
            raise FetchError(url, f"no complete answer within {policy.timeout:g} s") from None
        raise FetchError(url, f"{type(exc).__name__}: {exc}") from None
    finally:
        watchdog.cancel()
        connection.close()


def _wait_at_most(connection: http.client.HTTPConnection, seconds: float) -> None:
    if connection.sock is not None:
        connection.sock.settimeout(seconds)


def fetch_json(
    url: str, headers: Mapping[str, str], policy: Policy, deadline: float | None = None
) -> dict[str, Any]:
    """GET an ActivityStreams document; raise FetchError unless it is a 200 JSON object."""
    answer = request("GET", url, {"Accept": ACCEPT, **headers}, None, policy, deadline)
    if answer.status != 200:
        raise FetchError(url, f"answered {answer.status}", answer.status)
    try:
        document = json.loads(answer.body)
    except (ValueError, RecursionError):
        raise FetchError(url, "the answer is not JSON") from None
    if not isinstance(document, dict):
        raise FetchError(url, "the answer is not a JSON object")
    return document
