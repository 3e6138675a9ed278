"""A bounded copy on local disk of blobs kept elsewhere (the S3 adapter's).

Workers read a message from a file and LibreOffice converts files, so a remote blob is
copied here first; the next reader on this host skips the download. The folder never
holds much more than its bound: after each addition the least recently used files go
(last use = mtime, touched on every hit). Several processes of one host may share the
folder: eviction counts what is on disk, not what this process added. Entries are
written atomically (temp file, rename), so a reader sees a whole blob or none; being a
copy, nothing here is fsynced.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from durable.blobs.local import blob_key


class DiskCache:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._added = 0  # bytes added since the last count of the folder
        self._lock = threading.Lock()

    def path_for(self, digest: str) -> Path:
        return self.root / blob_key(digest)

    def hit(self, digest: str) -> Path | None:
        path = self.path_for(digest)
        try:
            os.utime(path)  # most recently used now
        except FileNotFoundError:
            return None
        return path

    def add(self, digest: str, chunks: Iterable[bytes]) -> Path:
        """Write *chunks* as *digest*'s copy (atomically) and make room; its path."""
        target = self.path_for(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        size = 0
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
                    size += len(chunk)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._made_room(size, keep=target)
        return target

    def size(self) -> int:
        return sum(size for _, size, _ in self._entries())

    def _entries(self) -> list[tuple[float, int, Path]]:
        found = []
        for folder, _, files in os.walk(self.root):
            for name in files:
                path = Path(folder) / name
                with contextlib.suppress(FileNotFoundError):  # another process evicted it
                    st = path.stat()
                    found.append((st.st_mtime, st.st_size, path))
        return found

    def _made_room(self, added: int, *, keep: Path) -> None:
        with self._lock:
            self._added += added
            # count the folder only when this process's additions could have filled it
            if self._added < self.max_bytes // 8 and added < self.max_bytes // 8:
                return
            self._added = 0
            entries = sorted(self._entries())  # oldest use first
            total = sum(size for _, size, _ in entries)
            for _, size, path in entries:
                if total <= self.max_bytes:
                    break
                if path == keep:  # the copy just made is about to be read
                    continue
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                total -= size
