"""An S3-compatible bucket as a deploy target (AWS S3, Cloudflare R2, Backblaze B2, MinIO, ...).

Credentials come from boto3's usual chain (environment, shared files, instance roles). Every
object gets what object storage can keep of the headers the server sends: Content-Type with
its charset, Cache-Control, Content-Language where set, and for an old slug a website
redirect (`x-amz-website-redirect-location`). The precompressed `.gz`/`.br` siblings are not
sent: a bucket cannot choose an encoding by Accept-Encoding, so it holds the identity bytes
and the CDN compresses.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, NamedTuple

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as EndpointUnreachable

from feedsvc.deploy.plan import Item
from feedsvc.deploy.state import MARKER_NAME, STATE_NAME, SentObject, decode, encode, encode_marker
from feedsvc.errors import DeployError
from feedsvc.export.names import DEPLOY_FILES

SCHEME = "s3://"  # feedsvc.deploy.S3_SCHEME, without importing boto3
_CREDENTIALS = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "ExpiredToken",
        "InvalidToken",
        "InvalidClientTokenId",
        "AuthorizationHeaderMalformed",
        "Forbidden",
        "403",
        "401",
    }
)
_MISSING = frozenset({"NoSuchBucket", "404"})
_KEYS_PER_RANGE = 2000  # a listing is split into ranges of about this many keys


class _Remote(NamedTuple):
    etag: str
    size: int


def parse(url: str) -> tuple[str, str]:
    """Return the bucket and key prefix ("" or ending in "/") of an s3://BUCKET[/PREFIX] URL."""
    bucket, _slash, prefix = url.removeprefix(SCHEME).partition("/")
    prefix = prefix.strip("/")
    if not bucket or any(part in ("", ".", "..") for part in prefix.split("/") if prefix):
        raise DeployError(url, "is not s3://BUCKET or s3://BUCKET/PREFIX")
    return bucket, prefix + "/" if prefix else ""


def _reason(exc: Exception, endpoint: str) -> str:
    """Return one line saying why a request failed, for people."""
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return (
            "no credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
        )
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return f"cannot reach {endpoint}: no answer in time"
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach {endpoint}: could not connect"
    if isinstance(exc, EndpointUnreachable | HTTPClientError):
        return f"cannot reach {endpoint}: {type(exc).__name__}"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = str(error.get("Message", "")) or code
        if code in _CREDENTIALS:
            return f"the credentials were refused ({code}: {message})"
        if code in _MISSING:
            return "no such bucket"
        return f"{code}: {message}"
    return str(exc)


class S3Target:
    """A bucket, or a prefix in one."""

    def __init__(self, url: str, *, endpoint_url: str | None, connections: int) -> None:
        self.name = url
        self.connections = connections
        self.bucket, self.prefix = parse(url)
        self.endpoint = endpoint_url or "S3"
        config = Config(
            connect_timeout=5,
            read_timeout=60,
            # Three attempts (AWS_MAX_ATTEMPTS can say otherwise): an endpoint that cannot be
            # reached fails the deploy within seconds.
            retries={"mode": "standard"},
            max_pool_connections=connections,
            # Other S3-compatible services reject the newer default checksum headers.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            s3={"addressing_style": "path"} if endpoint_url else None,
        )
        with self._errors():
            core = botocore.session.get_session()
            # Timestamps stay text: parsing LastModified of every listed object with dateutil
            # took most of a listing's time (aws-cli does the same).
            core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=str)
            self.client: Any = boto3.session.Session(botocore_session=core).client(
                "s3", endpoint_url=endpoint_url, config=config
            )
        self.endpoint = str(self.client.meta.endpoint_url)
        self.remote: dict[str, _Remote] = {}

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (BotoCoreError, ClientError, ValueError) as exc:
            raise DeployError(self.name, _reason(exc, self.endpoint)) from None

    def select(self, items: list[Item]) -> list[Item]:
        """Return the site's files: identity bytes only, not the deploy files for web servers."""
        return [item for item in items if not item.sibling and item.key not in DEPLOY_FILES]

    def scan(self, expected: Sequence[str]) -> None:
        """List the objects under the prefix: in key ranges split at the expected keys, the
        ranges at once (a listing is a chain of pages; a bucket answers each in ~0.1 s)."""
        keys = sorted(expected)
        parts = min(self.connections, len(keys) // _KEYS_PER_RANGE + 1)
        bounds = sorted({keys[len(keys) * n // parts] for n in range(1, parts)})
        ranges = list(zip([None, *bounds], [*bounds, None], strict=True))
        with ThreadPoolExecutor(len(ranges)) as pool:
            found = list(pool.map(lambda bounds: self._list(*bounds), ranges))
        self.remote = {key: remote for part in found for key, remote in part.items()}

    def _list(self, after: str | None, until: str | None) -> dict[str, _Remote]:
        """Return the objects whose keys are after `after` and up to `until` (None: no bound)."""
        found: dict[str, _Remote] = {}
        start = {} if after is None else {"StartAfter": self.prefix + after}
        with self._errors():
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix, **start
            )
            for page in pages:
                for item in page.get("Contents", ()):
                    key = str(item["Key"]).removeprefix(self.prefix)
                    if until is not None and key > until:
                        return found
                    found[key] = _Remote(str(item["ETag"]).strip('"'), int(item["Size"]))
        return found

    def existing(self) -> Iterable[str]:
        """Return the keys under the prefix, apart from dot files (the state, `.well-known`)."""
        return [key for key in self.remote if not any(p.startswith(".") for p in key.split("/"))]

    def check(self, item: Item, record: SentObject | None) -> SentObject | None:
        """An object is current when its bytes are (the listed ETag is the MD5, or the tag the
        store gave when it was sent) and it was sent with the same headers."""
        remote = self.remote.get(item.key)
        if remote is None or record is None or remote.size != item.size:
            return None
        if record.md5 != item.md5 or record.meta != item.meta:
            return None
        return record if remote.etag in (item.md5, record.tag) else None

    def load_state(self) -> dict[str, SentObject]:
        """Return the state of the last deploy, if it is there."""
        with self._errors():
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + STATE_NAME)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return {}
                raise
            return decode(answer["Body"].read())

    def save_state(self, records: dict[str, SentObject]) -> None:
        """Store the state beside the site."""
        with self._errors():
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.prefix + STATE_NAME,
                Body=encode(records),
                ContentType="application/gzip",
                CacheControl="no-store",
            )

    def save_marker(self, token: str) -> None:
        """Store the marker naming the deploy `token` beside the site."""
        with self._errors():
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.prefix + MARKER_NAME,
                Body=encode_marker(token),
                ContentType="application/json",
                CacheControl="no-store",
            )

    def put(self, item: Item) -> SentObject:
        """Send one object with its headers; the store checks the bytes with Content-MD5."""
        body = item.body(self.name)
        digest = base64.b64encode(binascii.unhexlify(item.md5)).decode("ascii")
        with self._errors():
            answer = self.client.put_object(
                Bucket=self.bucket,
                Key=self.prefix + item.key,
                Body=body,
                ContentMD5=digest,
                **dict(item.meta),
            )
        return SentObject(item.md5, str(answer.get("ETag", "")).strip('"'), item.meta)

    def read(self, key: str, limit: int) -> bytes | None:
        """Return the bytes of one object under the prefix, or None when there is none."""
        with self._errors():
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None
                raise
            stream = answer["Body"]
            length = int(answer.get("ContentLength") or 0)
            try:
                body = b"" if length > limit else stream.read(limit + 1)
            finally:
                stream.close()
        if length > limit or len(body) > limit:
            raise DeployError(self.name, f"{key} is larger than {limit} bytes")
        return bytes(body)

    def delete(self, keys: list[str]) -> None:
        """Delete objects, a thousand a request."""
        for start in range(0, len(keys), 1000):
            batch = [{"Key": self.prefix + key} for key in keys[start : start + 1000]]
            with self._errors():
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            errors = answer.get("Errors") or []
            if errors:
                first = errors[0]
                raise DeployError(
                    self.name,
                    f"{len(errors)} objects could not be deleted, {first.get('Key')} first: "
                    f"{first.get('Code')}: {first.get('Message')}",
                )
