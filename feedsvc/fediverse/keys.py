"""The publication's RSA key pair: generated once, kept beside the catalog (mode 0600).

Only the public half ever leaves this module as text; the private key is never logged, served
or put into an error message.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from feedsvc.fediverse.errors import KeyFileError

KEY_BITS = 2048


def key_file(database: Path) -> Path:
    """Return the file of the publication's private key: `<catalog>.fediverse-key.pem`."""
    return database.with_name(database.name + ".fediverse-key.pem")


@dataclass(frozen=True, slots=True)
class KeyPair:
    """The private key (kept in memory only) and its public half as PEM text."""

    public_pem: str
    _private: rsa.RSAPrivateKey = field(repr=False)

    def sign(self, data: bytes) -> bytes:
        """Return the RSASSA-PKCS1-v1_5 SHA-256 signature of `data`."""
        return self._private.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _from_pem(data: bytes, path: Path) -> KeyPair:
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except ValueError:
        raise KeyFileError(path, "is not a PEM private key") from None
    if not isinstance(private, rsa.RSAPrivateKey):
        raise KeyFileError(path, "is not an RSA key")
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyPair(public.decode("ascii"), private)


def _create(path: Path) -> None:
    """Write a new key to `path` unless one is there (two processes may race: one wins)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    data = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # link() never replaces: whoever links first made the key everyone uses.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()


_CACHE: dict[Path, KeyPair] = {}
_LOCK = threading.Lock()


def load_keys(database: Path) -> KeyPair:
    """Return the publication's key pair, generating it on first use."""
    path = key_file(database).resolve()
    with _LOCK:
        found = _CACHE.get(path)
        if found is not None:
            return found
        try:
            if not path.exists():
                _create(path)
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)
            pair = _from_pem(path.read_bytes(), path)
        except OSError as exc:
            raise KeyFileError(path, exc.strerror or str(exc)) from None
        _CACHE[path] = pair
        return pair
