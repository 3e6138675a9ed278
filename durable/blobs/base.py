"""The blob store port: what every adapter offers and the errors callers decide from.

Blobs are named by the sha256 of their bytes. Two errors, because callers treat them
differently: a blob that is gone (``BlobMissing``: quarantine the message, show the rest
of the page) and a store that cannot be reached right now (``BlobStoreUnavailable``:
nothing is wrong with the message; wait and try again later, never give up on it).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable


class BlobMissing(Exception):
    """A blob named in the database is not in the store."""


class BlobStoreUnavailable(Exception):
    """The store cannot be reached or refused the request for now: retry later."""


class BlobConfigError(Exception):
    """``storage.url`` (or its companions) cannot be used; the message names the key."""


@runtime_checkable
class BlobStore(Protocol):
    def put(self, data: bytes, *, durable: bool = True) -> str:
        """Store *data* (once: a second put of the same bytes writes nothing); its sha256.

        ``durable=False`` may defer making it durable until :meth:`flush`.
        """

    def flush(self) -> None:
        """Make every ``put(durable=False)`` since the last flush durable."""

    def get(self, digest: str) -> bytes:
        """The bytes (``BlobMissing`` if absent)."""

    def open(self, digest: str) -> BinaryIO:
        """A stream of the bytes, read without holding them all (close it)."""

    def local_path(self, digest: str) -> Path:
        """A file on this host holding the bytes (for tools that read files: the workers,
        LibreOffice). Read it soon: a remote store's cached copy may be evicted later."""

    def __contains__(self, digest: object) -> bool: ...

    def ping(self) -> None:
        """Raise ``BlobStoreUnavailable`` unless the store answers (health checks)."""
