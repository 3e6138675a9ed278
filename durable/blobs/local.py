"""The embedded default: a content-addressed directory on this host.

Files are named by their sha256 and written atomically (temp file, rename), then made
durable — per file (``put``), or for a whole batch at once (``put(durable=False)``
then ``flush()``, one ``syncfs`` instead of two fsyncs per file) — before the database
row that names them is committed. A crash leaves either the whole file or none.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from durable import fsync_dir, write_atomic
from durable.blobs.base import BlobMissing, BlobStoreUnavailable, BlobUsage

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_syncfs = getattr(_libc, "syncfs", None)


def blob_key(digest: str) -> str:
    """``ab/cd/abcd…``: the layout of every adapter (a listing splits into small folders)."""
    return f"{digest[:2]}/{digest[2:4]}/{digest}"


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._dirs: set[Path] = set()
        self._unsynced: list[Path] = []
        self.usage = BlobUsage()  # a folder: files written and read, counted as requests

    def path_for(self, digest: str) -> Path:
        return self.root / blob_key(digest)

    def put(self, data: bytes, *, durable: bool = True) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if target.exists() and target.stat().st_size == len(data):
            return digest
        if target.parent not in self._dirs:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(target.parent)
        write_atomic(target, data, durable=durable)
        self.usage.puts += 1
        self.usage.bytes_up += len(data)
        if not durable:
            self._unsynced.append(target)
        return digest

    def flush(self) -> None:
        """Make every ``put(durable=False)`` since the last flush durable."""
        if not self._unsynced:
            return
        pending, self._unsynced = self._unsynced, []
        if _syncfs is not None:
            fd = os.open(self.root, os.O_RDONLY)
            try:
                if _syncfs(fd) == 0:
                    return
            finally:
                os.close(fd)
        for path in pending:  # no syncfs (not Linux): file by file
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        for parent in {p.parent for p in pending}:
            fsync_dir(parent)

    def get(self, digest: str) -> bytes:
        try:
            data = self.path_for(digest).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(digest) from None
        self.usage.gets += 1
        self.usage.bytes_down += len(data)
        return data

    def open(self, digest: str) -> BinaryIO:
        try:
            stream = open(self.path_for(digest), "rb")
        except FileNotFoundError:
            raise BlobMissing(digest) from None
        self.usage.gets += 1
        return stream

    def local_path(self, digest: str) -> Path:
        path = self.path_for(digest)
        if not path.is_file():
            raise BlobMissing(digest)
        self.usage.gets += 1
        return path

    def __contains__(self, digest: object) -> bool:
        return isinstance(digest, str) and self.path_for(digest).exists()

    def ping(self) -> None:
        here = self.root
        while not here.exists() and here != here.parent:  # made on the first put
            here = here.parent
        if not os.access(here, os.W_OK):
            raise BlobStoreUnavailable(f"{self.root} is not writable")
