"""Where raw messages, attachments and previews live: one port, two adapters, one registry.

Modules
    base   the ``BlobStore`` port and its errors (missing vs. store unavailable)
    local  ``LocalBlobStore``: a content-addressed directory, the embedded default
    s3     ``S3BlobStore``: an S3-compatible bucket (SeaweedFS, MinIO, Ceph RGW, clouds)
    cache  ``DiskCache``: the bounded local copy a remote store reads through

``BLOB_STORES`` maps each ``storage.url`` scheme to the factory of its adapter, as the
transports and mail sources do: ``open_blob_store`` builds from it and the configuration
refuses a scheme it does not hold (``check_scheme``). The S3 client is imported only when
an S3 store is built (a local deployment never loads it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Protocol
from urllib.parse import unquote, urlsplit

from durable.blobs.base import (
    BlobConfigError,
    BlobMissing,
    BlobStore,
    BlobStoreUnavailable,
    BlobUsage,
)
from durable.blobs.local import LocalBlobStore

__all__ = [
    "BLOB_STORES", "BlobConfigError", "BlobMissing", "BlobStore", "BlobStoreOptions", "BlobStoreUnavailable",
    "BlobUsage", "LocalBlobStore", "check_scheme", "open_blob_store",
]


@dataclass(frozen=True)
class BlobStoreOptions:
    """What an adapter may need besides its URL (from config.yaml's ``storage`` and the
    environment)."""

    path: Path  # the local folder: the store itself (file:) or the home of the cache (s3:)
    base_dir: Path = Path(".")  # a relative file:PATH is relative to it (the config's folder)
    endpoint: str | None = None  # http(s)://host:port of an S3 service
    region: str | None = None
    cache_bytes: int = 512 * 1024 * 1024
    cache_path: Path | None = None  # the s3 adapter's local copy (None: path/cache)
    env: Mapping[str, str] = field(default_factory=dict)  # AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY


class BlobStoreFactory(Protocol):
    def __call__(self, url: str, options: BlobStoreOptions) -> BlobStore: ...


def _local(url: str, options: BlobStoreOptions) -> BlobStore:
    rest = url.partition(":")[2].removeprefix("//")
    path = Path(unquote(rest)).expanduser() if rest else options.path
    return LocalBlobStore(path if path.is_absolute() else options.base_dir / path)


def _s3(url: str, options: BlobStoreOptions) -> BlobStore:
    from durable.blobs.cache import DiskCache
    from durable.blobs.s3 import S3BlobStore  # the client only when asked for

    parts = urlsplit(url)
    if not parts.netloc:
        raise BlobConfigError(f"{url!r}: storage.url needs a bucket (s3://bucket/prefix)")
    endpoint = options.endpoint or "https://s3.amazonaws.com"
    if urlsplit(endpoint).scheme not in ("http", "https") or not urlsplit(endpoint).netloc:
        raise BlobConfigError(f"{options.endpoint!r}: storage.endpoint must be http(s)://host[:port]")
    return S3BlobStore(
        endpoint=endpoint.rstrip("/"), bucket=parts.netloc, prefix=unquote(parts.path), region=options.region,
        env=options.env, cache=DiskCache(options.cache_path or options.path / "cache", options.cache_bytes),
    )


# scheme → adapter factory: the one list of what ``storage.url`` may name
BLOB_STORES: Mapping[str, BlobStoreFactory] = MappingProxyType({
    "file": _local,
    "s3": _s3,
})


def check_scheme(url: str) -> str:
    """*url*'s scheme if an adapter serves it; else BlobConfigError naming those that do."""
    scheme = url.partition(":")[0].strip().lower()
    if scheme not in BLOB_STORES:
        raise BlobConfigError(f"unsupported scheme {scheme!r} (allowed: {', '.join(BLOB_STORES)})")
    return scheme


def open_blob_store(url: str | None, options: BlobStoreOptions) -> BlobStore:
    """``None`` or ``file:`` → the folder ``options.path``; ``file:PATH``; ``s3://bucket/prefix``."""
    if not url:
        return LocalBlobStore(options.path)
    try:
        factory = BLOB_STORES[check_scheme(url)]
    except BlobConfigError as exc:
        raise BlobConfigError(f"{url!r}: {exc}") from None
    return factory(url, options)
