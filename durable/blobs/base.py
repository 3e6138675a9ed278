"""The blob store port: what every adapter offers and the errors callers decide from.

Blobs are named by the sha256 of their bytes. Two errors, because callers treat them
differently: a blob that is gone (``BlobMissing``: quarantine the message, show the rest
of the page) and a store that cannot be reached right now (``BlobStoreUnavailable``:
nothing is wrong with the message; wait and try again later, never give up on it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable


class BlobMissing(Exception):
    """A blob named in the database is not in the store."""


class BlobStoreUnavailable(Exception):
    """The store cannot be reached or refused the request for now: retry later."""


class BlobConfigError(Exception):
    """``storage.url`` (or its companions) cannot be used; the message names the key."""


@dataclass
class BlobUsage:
    """What this process asked of its store: requests sent and bytes moved (a remote
    store's cost per message, for the operator's sizing and the benchmarks). Reads served
    from the local cache send nothing and count as ``cache_hits``."""

    heads: int = 0
    puts: int = 0
    gets: int = 0
    lists: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    cache_hits: int = 0

    @property
    def requests(self) -> int:
        return self.heads + self.puts + self.gets + self.lists

    def summary(self) -> str:
        """One log line: ``12 requests (HEAD 4, PUT 3, GET 5, LIST 0), 1.2 MB up, 0.8 MB down, 7 cache hits``."""
        return (f"{self.requests} requests (HEAD {self.heads}, PUT {self.puts}, GET {self.gets}, LIST {self.lists}), "
                f"{self.bytes_up / 1e6:.1f} MB up, {self.bytes_down / 1e6:.1f} MB down, {self.cache_hits} cache hits")


@runtime_checkable
class BlobStore(Protocol):
    usage: BlobUsage

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
