"""The one exception tree of feedsvc: every error a user can see is a FeedsvcError."""

from __future__ import annotations


class FeedsvcError(Exception):
    """Base of every error feedsvc raises on purpose."""


class ConfigError(FeedsvcError):
    """A setting has a value feedsvc cannot use."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"setting {name}: {reason}")
        self.name = name
        self.reason = reason


class ArticleError(FeedsvcError):
    """An article file cannot be published; `code` is stable, `reason` is for people."""

    def __init__(self, source: str, code: str, reason: str) -> None:
        super().__init__(f"{source}: {reason} [{code}]")
        self.source = source
        self.code = code
        self.reason = reason


class CatalogError(FeedsvcError):
    """The catalog database cannot be opened, read or written."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"catalog {path}: {reason}")
        self.path = path
        self.reason = reason


class NotFound(FeedsvcError):
    """Nothing is published under this identifier."""

    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"no {what} {ident!r}")
        self.what = what
        self.ident = ident


class AddressInUse(FeedsvcError):
    """Another process listens on the address a server was asked to serve on."""

    def __init__(self, address: str, holder: str) -> None:
        super().__init__(
            f"cannot serve on {address}: {holder} is listening there already "
            "(stop it, or choose another --port)"
        )
        self.address = address
        self.holder = holder


class MissingExtra(FeedsvcError):
    """A feature needs an optional dependency that is not installed: says which extra brings it."""

    def __init__(self, feature: str, package: str, extra: str) -> None:
        super().__init__(f"{feature} needs {package}: pip install 'feedsvc[{extra}]'")
        self.package = package
        self.extra = extra


class DeployError(FeedsvcError):
    """An export cannot be sent to a deploy target (bad credentials, no such bucket, an
    unreachable endpoint, too many deletions, ...)."""

    def __init__(self, target: str, reason: str) -> None:
        reason = " ".join(reason.split())  # one line, whatever the service said
        super().__init__(f"deploy to {target}: {reason}")
        self.target = target
        self.reason = reason


class RecordError(FeedsvcError):
    """The record a deployed site keeps of what it published cannot be adopted: it cannot be
    read, it is damaged, or it belongs to another publication."""

    def __init__(self, where: str, reason: str) -> None:
        reason = " ".join(reason.split())  # one line, whatever a server or a file held
        super().__init__(f"deployed record {where}: {reason}")
        self.where = where
        self.reason = reason
