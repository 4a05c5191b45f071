"""Helpers of the fediverse tests: a feedsvc server on a chosen port (its site URL must be its
own address), the Fedify follower (tests/js-fediverse), and a draft-cavage signer written here
with `cryptography` alone, independent of feedsvc's own signing code."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from feedsvc.catalog import Catalog
from feedsvc.fediverse.store import open_store
from feedsvc.web.app import create_app
from tests.conftest import SITE_URL, free_port, need, run_ingest, wait_for_log, wait_for_port

JS = Path(__file__).parent.parent / "js-fediverse"


def serve(
    seeds: Path, workdir: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """Start `feedsvc serve` (one worker, the writer supervised) whose site URL is its own
    loopback address, with federation on; return the process, base URL and log."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")},
        "FEEDSVC_SEEDS_DIR": str(seeds),
        "FEEDSVC_DATABASE": str(workdir / "served.sqlite3"),
        "FEEDSVC_RUN_DIR": str(workdir / "run"),
        "FEEDSVC_SITE_URL": base,
        "FEEDSVC_SITE_TITLE": "Test News",
        "FEEDSVC_FEDIVERSE": "1",
        "FEEDSVC_FEDIVERSE_ALLOW_PRIVATE": "1",
        "FEEDSVC_FEDIVERSE_TIMEOUT": "5",
        "FEEDSVC_FEDIVERSE_RETRY_MS": "200",
        "FEEDSVC_SETTLE_MS": "0",
        "FEEDSVC_STATE_CHECK_MS": "0",
        **(env or {}),
    }
    log = workdir / f"server-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "serve", "--port", str(port), "--workers", "1"],
            env=full_env,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    wait_for_port(port, process, log)
    if "Started worker-1\n" not in wait_for_log(log, "Started worker-1\n", timeout=90):
        process.kill()
        pytest.fail("the worker did not start:\n" + log.read_text())
    return process, base, log


class Follower:
    """The Fedify follower process: commands in, verified activities out (JSON lines)."""

    def __init__(self, workdir: Path) -> None:
        node = need("node")
        if not (JS / "node_modules" / "@fedify" / "fedify").is_dir():
            if os.environ.get("CI"):
                pytest.fail("npm ci --prefix tests/js-fediverse is required on CI (.ci/run)")
            pytest.skip("tests/js-fediverse is not installed (npm ci --prefix tests/js-fediverse)")
        self.port = free_port()
        self.actor = f"http://127.0.0.1:{self.port}/users/reader"
        self.stderr = (workdir / f"follower-{self.port}.err").open("wb")
        self.process = subprocess.Popen(
            [node, str(JS / "follower.mjs"), str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            cwd=JS,
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.wait(lambda e: e["event"] == "ready", 30)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.events.put(json.loads(line))

    def send(self, command: str) -> None:
        """Send one command line."""
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        self.process.stdin.flush()

    def wait(self, match: Callable[[dict[str, Any]], bool], timeout: float = 20) -> dict[str, Any]:
        """Return the first event (seen or coming) that matches; fail after `timeout` s."""
        for event in self.seen:
            if match(event):
                self.seen.remove(event)
                return event
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                break
            if event["event"] == "error":
                pytest.fail(f"the follower failed: {event['message']}")
            if match(event):
                return event
            self.seen.append(event)
        pytest.fail(f"no matching event within {timeout} s; seen: {self.seen}")

    def close(self) -> None:
        """Stop the process."""
        self.process.kill()
        self.process.wait(10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        self.stderr.close()


def make_key() -> tuple[rsa.RSAPrivateKey, str]:
    """Return a new RSA key and its public half as PEM."""
    from cryptography.hazmat.primitives import serialization

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, pem.decode()


def cavage_headers(
    key: rsa.RSAPrivateKey,
    key_id: str,
    url: str,
    body: bytes,
    *,
    date: float | None = None,
    body_digest: bytes | None = None,
    covered: tuple[str, ...] = ("(request-target)", "host", "date", "digest"),
) -> dict[str, str]:
    """Return Host, Date, Digest and Signature headers of a signed POST (draft-cavage-12,
    rsa-sha256) over the `covered` headers, built here from the draft with `cryptography`
    alone. The Host is the URL's, so a URL of another server signs for that server."""
    parts = urlsplit(url)
    stamp = format_datetime(datetime.fromtimestamp(date or time.time(), tz=UTC), usegmt=True)
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body_digest or body).digest()).decode()
    headers = {"Host": parts.netloc, "Date": stamp, "Digest": digest}
    lines = [
        f"(request-target): post {parts.path}"
        if name == "(request-target)"
        else f"{name}: {headers[name.capitalize()]}"
        for name in covered
    ]
    signature = base64.b64encode(
        key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    return headers | {
        "Content-Type": "application/activity+json",
        "Signature": (
            f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(covered)}",'
            f'signature="{signature}"'
        ),
    }


class RemoteServer:
    """Another fediverse server on loopback: serves JSON documents by path (`documents`), with
    a status per path (`statuses`, default 200); counts GETs. With `trickle` set, it sends its
    answer's status line and headers one byte every `trickle` seconds (a slow-loris server)."""

    def __init__(self, trickle: float | None = None) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, int] = {}
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                known = self.path in owner.documents
                status = owner.statuses.get(self.path, 200 if known else 404)
                body = json.dumps(owner.documents.get(self.path, {})).encode()
                head = (
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/activity+json\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                ).encode()
                try:
                    if trickle is None:
                        self.wfile.write(head + body)
                        return
                    for byte in head:  # never more than a few seconds: the test is bounded
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(trickle)
                except OSError:
                    pass  # the client gave up, as it should

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def person(self, name: str, pem: str, *, owner: str | None = None) -> str:
        """Serve an actor `name` whose key (`#main-key`) is `pem`; return its id. `owner` is
        what its key claims as owner (default: itself)."""
        actor = f"{self.base}/users/{name}"
        self.documents[f"/users/{name}"] = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor,
            "type": "Person",
            "inbox": actor + "/inbox",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {"id": actor + "#main-key", "owner": owner or actor, "publicKeyPem": pem},
        }
        return actor

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


class RemoteActor(RemoteServer):
    """A remote server serving one actor, alice, with her key."""

    def __init__(self, trickle: float | None = None) -> None:
        super().__init__(trickle)
        self.key, pem = make_key()
        self.actor = self.person("alice", pem)
        self.key_id = self.actor + "#main-key"

    @property
    def document(self) -> dict[str, Any]:
        """Return alice's actor document (change it in place to change what is served)."""
        return self.documents["/users/alice"]


INBOX = f"{SITE_URL}/fediverse/inbox"
SITE_ACTOR = f"{SITE_URL}/fediverse/actor.json"


def inbox_app(seeds: Path, database: Path, catalog: Catalog, **extra: Any) -> Flask:
    """Return an app over the ingested seeds with federation on (FEEDSVC_FEDIVERSE_TIMEOUT=1,
    private addresses allowed unless `extra` says otherwise)."""
    run_ingest(catalog, seeds)
    config = {
        "SEEDS_DIR": seeds,
        "DATABASE": database,
        "SITE_URL": SITE_URL,
        "SITE_TITLE": "Test News",
        "FEDIVERSE": True,
        "FEDIVERSE_ALLOW_PRIVATE": True,
        "FEDIVERSE_TIMEOUT": 1,
    }
    return create_app(config | extra)


def activity(kind: str, actor: str, obj: object = SITE_ACTOR) -> bytes:
    """Return the body of an activity (a Follow of the site's actor by default)."""
    document = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor}/activities/{kind.lower()}-1",
        "type": kind,
        "actor": actor,
        "object": obj,
    }
    return json.dumps(document).encode()


def post_inbox(
    client: FlaskClient, body: bytes, headers: dict[str, str], *, settle: bool = True
) -> tuple[int, float, TestResponse]:
    """POST to the inbox; return the status, the seconds the answer took and the response.
    With `settle`, first wait (bounded) until what the POST queued for a key fetch is done."""
    started = time.monotonic()
    response = client.post(INBOX, data=body, headers=headers, base_url=SITE_URL)
    seconds = time.monotonic() - started
    if settle:
        settled(client)
    return response.status_code, seconds, response


def settled(client: FlaskClient, timeout: float = 20) -> None:
    """Wait until the app's inbox backlog is empty; fail after `timeout` s."""
    from feedsvc.web.fediverse import backlog

    with client.application.app_context():
        if not backlog().wait_idle(timeout):
            pytest.fail(f"the inbox backlog was still busy after {timeout} s")


def dropped(caplog: pytest.LogCaptureFixture) -> str:
    """Return what the inbox logged of activities dropped once their key was fetched."""
    return "\n".join(r.getMessage() for r in caplog.records if "dropped" in r.getMessage())


def stored(database: Path) -> tuple[int, int, int]:
    """Return how many followers, queued deliveries and cached keys the store holds."""
    with open_store(database) as store:
        deliveries = store.db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        keys = store.db.execute("SELECT count(*) FROM keys").fetchone()[0]
        return store.follower_count(), int(deliveries), int(keys)


class Silent:
    """A host that accepts TCP connections and never says a word (a signer's server that
    hangs); counts the connections it took. Closing it ends every connection it holds."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.key, _pem = make_key()
        self.lock = threading.Lock()
        self.closed = False
        self.accepted = threading.Semaphore(0)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _address = self.sock.accept()
            except OSError:
                return  # closed
            with self.lock:
                if self.closed:
                    connection.close()
                    return
                self.held.append(connection)
            self.accepted.release()

    def wait_for_connection(self, timeout: float) -> bool:
        """Return whether a connection came within `timeout` seconds."""
        return self.accepted.acquire(timeout=timeout)

    def signed(self, name: str, inbox: str) -> tuple[bytes, dict[str, str]]:
        """Return a Follow by actor `name` on this host and its headers, signed with a key
        that only this host could vouch for."""
        actor = f"{self.base}/users/{name}"
        body = activity("Follow", actor)
        return body, cavage_headers(self.key, actor + "#main-key", inbox, body)

    def close(self) -> None:
        """Stop listening and drop every connection held (their readers see the end at once)."""
        with self.lock:
            self.closed = True
            held, self.held = self.held, []
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() under way
        self.sock.close()
        for connection in held:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
