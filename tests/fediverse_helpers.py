"""Helpers of the fediverse tests: a feedsvc server on a chosen port (its site URL must be its
own address), the Fedify follower (tests/js-fediverse), and a draft-cavage signer written here
with `cryptography` alone, independent of feedsvc's own signing code."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .conftest import free_port, need, wait_for_log, wait_for_port

JS = Path(__file__).parent / "js-fediverse"


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
    if "Started worker-1\n" not in wait_for_log(log, "Started worker-1\n", timeout=30):
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
) -> dict[str, str]:
    """Return Host, Date, Digest and Signature headers of a signed POST (draft-cavage-12,
    rsa-sha256), built here from the draft with `cryptography` alone."""
    parts = urlsplit(url)
    stamp = format_datetime(datetime.fromtimestamp(date or time.time(), tz=UTC), usegmt=True)
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body_digest or body).digest()).decode()
    text = (
        f"(request-target): post {parts.path}\nhost: {parts.netloc}\ndate: {stamp}\n"
        f"digest: {digest}"
    )
    signature = base64.b64encode(
        key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    return {
        "Host": parts.netloc,
        "Date": stamp,
        "Digest": digest,
        "Content-Type": "application/activity+json",
        "Signature": (
            f'keyId="{key_id}",algorithm="rsa-sha256",headers="(request-target) host date '
            f'digest",signature="{signature}"'
        ),
    }
