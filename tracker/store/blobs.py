"""The blob store as the tracker sees it: the port and its adapters live in ``durable.blobs``
(below every room, so that config validation reads the same registry of schemes).

``BlobStore`` is the port (annotate with it); ``LocalBlobStore`` the embedded default
directory; ``open_blob_store`` builds what ``storage.url`` names (tracker/app.py).
"""

from __future__ import annotations

from durable.blobs import (
    BLOB_STORES,
    BlobConfigError,
    BlobMissing,
    BlobStore,
    BlobStoreOptions,
    BlobStoreUnavailable,
    LocalBlobStore,
    open_blob_store,
)

__all__ = [
    "BLOB_STORES", "BlobConfigError", "BlobMissing", "BlobStore", "BlobStoreOptions", "BlobStoreUnavailable",
    "LocalBlobStore", "open_blob_store",
]
