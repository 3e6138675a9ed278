"""Durable file writes, in one place: temp file → fsync → rename → fsync the folder.

Used by the raw-mail blob store (tracker), the local receiver's Maildir delivery
(intake) and the file outbox (notifier). Imports nothing of ours, so every layer may.
A crash at any point leaves either no file or the whole file under its final name.

``durable.blobs`` is the blob store (raw mail, attachments, previews: a local folder or an
S3 bucket), here so that config validation, below every tracker room, reads its registry
of schemes as it reads the transports' and sources'.

``durable.loopback.is_loopback`` is here for the same reason (both intake and notifier ask
it): the one answer to "may plain IMAP/SMTP go to this host?".
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from itertools import count
from pathlib import Path

__all__ = ["fsync_dir", "maildir_name", "write_atomic", "deliver_maildir"]

_counter = count()


def fsync_dir(path: Path) -> None:
    """Make a rename into *path* durable (the directory entry itself)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(target: Path, data: bytes, *, tmp_dir: Path | None = None, durable: bool = True) -> None:
    """Write *data* to *target* so that readers see all of it or nothing.

    *tmp_dir* (default: the target's folder) must be on the same file system. With
    ``durable=False`` the caller makes the batch durable itself (one ``syncfs``).
    """
    fd, tmp = tempfile.mkstemp(dir=tmp_dir or target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(target.parent)


def maildir_name() -> str:
    """A unique Maildir file name (time, process, counter, host)."""
    host = socket.gethostname().replace("/", "\\057").replace(":", "\\072")
    return f"{time.time_ns()}.P{os.getpid()}Q{next(_counter)}.{host}"


def deliver_maildir(maildir: Path, data: bytes) -> Path:
    """Deliver one message into *maildir*/new via tmp/ (the Maildir protocol), durably."""
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    final = maildir / "new" / maildir_name()
    write_atomic(final, data, tmp_dir=maildir / "tmp")
    return final
