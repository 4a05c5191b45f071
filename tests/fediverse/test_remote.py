"""Requests to other servers: the address guard (IPv6 forms that embed a non-global IPv4, ports
other than 80 and 443, URLs that are not usable) and one deadline for the whole exchange, even
against a server that trickles its answer a byte at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedsvc.catalog import Catalog
from feedsvc.fediverse.errors import FetchError
from feedsvc.fediverse.remote import Policy, check_url, request, resolve
from tests.fediverse.helpers import (
    INBOX,
    RemoteActor,
    RemoteServer,
    activity,
    cavage_headers,
    dropped,
    inbox_app,
    post_inbox,
    stored,
)

PUBLIC = Policy()
MARGIN = 1.5  # seconds beyond the deadline a loaded machine may take to notice it


@pytest.mark.parametrize(
    "host",
    [
        "[::127.0.0.1]",  # IPv4-compatible
        "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
        "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
        "[64:ff9b::a00:1]",  # NAT64 of 10.0.0.1
        "[64:ff9b:1::a00:1]",  # local-use NAT64 (RFC 8215)
        "[::ffff:192.168.1.1]",  # IPv4-mapped
        "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",  # Teredo
        "[::1]",
        "127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",
    ],
)
def test_addresses_that_are_not_global_are_refused(host: str) -> None:
    with pytest.raises(FetchError, match="not a public address"):
        resolve(f"https://{host}/inbox", PUBLIC)


@pytest.mark.parametrize(
    "host", ["[64:ff9b::808:808]", "[2002:808:808::]", "[2606:4700::1111]", "8.8.8.8"]
)
def test_global_addresses_pass(host: str) -> None:
    assert resolve(f"https://{host}/inbox", PUBLIC)[1] == 443


def test_only_ports_80_and_443_unless_private_addresses_are_allowed() -> None:
    assert resolve("http://8.8.8.8:80/", PUBLIC)[1] == 80
    assert resolve("https://8.8.8.8:443/", PUBLIC)[1] == 443
    for url in ("http://8.8.8.8:8080/", "https://8.8.8.8:22/"):
        with pytest.raises(FetchError, match="port"):
            resolve(url, PUBLIC)
        assert resolve(url, Policy(allow_private=True))[0] == "8.8.8.8"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/inbox/\u00e9",
        "https://ex\u00e4mple.org/inbox",
        "https://example.org/in box",
        "https://example.org/in\r\nbox",
        "ftp://example.org/inbox",
        "https:///inbox",
        "/inbox",
        "https://user:secret@example.org/inbox",
        "https://example.org:99999/inbox",
        "https://[::1/inbox",
        "https://example.org/" + "x" * 3000,
        "",
    ],
)
def test_urls_that_cannot_be_requested_are_refused(url: str) -> None:
    with pytest.raises(FetchError):
        check_url(url, PUBLIC)


def test_a_usable_url_passes() -> None:
    assert check_url("https://example.org/users/a/inbox?x=1", PUBLIC)


@pytest.fixture
def trickler() -> Iterator[RemoteServer]:
    server = RemoteServer(trickle=0.05)  # about 100 bytes of head: 5 s when let through
    server.documents["/users/slow"] = {"id": "x"}
    yield server
    server.close()


def test_a_trickling_server_cannot_hold_a_request_past_the_deadline(
    trickler: RemoteServer,
) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match="within 1 s"):
        request("GET", trickler.base + "/users/slow", {}, None, Policy(True, timeout=1.0))
    assert time.monotonic() - started < 1.0 + MARGIN


def test_the_inbox_drops_a_trickling_signer_within_the_timeout(
    seeds: Path, database: Path, catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="feedsvc.fediverse.inbox")
    remote = RemoteActor(trickle=0.05)
    try:
        client = inbox_app(seeds, database, catalog).test_client()  # FEEDSVC_FEDIVERSE_TIMEOUT=1
        body = activity("Follow", remote.actor)
        headers = cavage_headers(remote.key, remote.key_id, INBOX, body)
        started = time.monotonic()
        status, _seconds, _response = post_inbox(client, body, headers)  # and its key fetch
        assert status == 202
        assert time.monotonic() - started < 1.0 + MARGIN
        assert "no complete answer within 1 s" in dropped(caplog)
        assert stored(database) == (0, 0, 0)
    finally:
        remote.close()
