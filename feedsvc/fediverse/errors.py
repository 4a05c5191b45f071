"""What can go wrong in federation, as feedsvc errors (subclasses of FeedsvcError)."""

from __future__ import annotations

from pathlib import Path

from feedsvc.errors import CatalogError, FeedsvcError


class KeyFileError(FeedsvcError):
    """The publication's key file cannot be read or written."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class RequestRefused(FeedsvcError):
    """An inbox request is refused: `status` is the HTTP answer (400, 401, 413, 429, ...);
    `retry_after`, in seconds, when the sender may try again later."""

    def __init__(self, status: int, reason: str, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


class FetchError(FeedsvcError):
    """A remote document could not be fetched (refused address, timeout, size, status)."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"{url[:200]}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


class StoreError(CatalogError):
    """The federation store cannot be opened, read or written (503 at the web edge, as the
    catalog's own errors)."""
