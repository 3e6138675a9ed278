"""Maildir source: the embedded default inbox (var/inbox).

Unseen messages (in new/, or in cur/ without the S flag) are fetched oldest first;
acknowledging renames the file into cur/ with the S flag, as a mail client would.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from intake.sources.base import FetchedMessage, FolderState, MailboxUnavailable

HEADER_PEEK = 64 * 1024


class MaildirMailbox:
    supports_idle = False

    def __init__(self, path: Path, *, max_message_bytes: int) -> None:
        self.path = Path(path)
        self.name = f"maildir:{self.path}"
        self.max_message_bytes = max_message_bytes
        self._paths: dict[str, Path] = {}  # key → file, remembered from the last fetch

    def connect(self) -> None:
        try:
            for sub in ("new", "cur", "tmp"):
                (self.path / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MailboxUnavailable(f"cannot open Maildir {self.path}: {exc.strerror}") from exc

    def close(self) -> None:
        pass

    def select(self, folder: str) -> FolderState:
        return FolderState(name=folder, uidvalidity=None, exists=sum(1 for _ in self._unseen()))

    def _unseen(self) -> Iterator[tuple[str, Path]]:
        for sub in ("new", "cur"):
            try:
                entries = list(os.scandir(self.path / sub))
            except FileNotFoundError:
                continue
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                key, _, flags = entry.name.partition(":2,")
                if "S" not in flags:
                    yield key, Path(entry.path)

    def fetch_new(self, folder: str, *, after_uid: int = 0, limit: int) -> Iterator[FetchedMessage]:
        pending = []
        for key, path in self._unseen():
            try:
                pending.append((path.stat().st_mtime, key, path))
            except FileNotFoundError:
                continue
        pending.sort()
        for mtime, key, path in pending[:limit]:
            self._paths[key] = path
            arrived = datetime.fromtimestamp(mtime, UTC)
            try:
                size = path.stat().st_size
                if size > self.max_message_bytes:
                    with path.open("rb") as fh:
                        head = fh.read(HEADER_PEEK)
                    yield FetchedMessage(
                        source=self.name, folder=folder, raw=None, size=size, key=key,
                        arrived_at=arrived, oversize=True, headers=head,
                    )
                    continue
                raw = path.read_bytes()
            except FileNotFoundError:
                continue  # acknowledged by another process meanwhile
            yield FetchedMessage(
                source=self.name, folder=folder, raw=raw, size=len(raw), key=key, arrived_at=arrived
            )

    def acknowledge(self, messages: Sequence[FetchedMessage]) -> None:
        for message in messages:
            self._acknowledge(message)

    def _acknowledge(self, message: FetchedMessage) -> None:
        path = self._paths.pop(message.key, None)
        if path is not None and path.exists():
            self._flag_seen(message.key, path)
            return
        for sub in ("new", "cur"):
            for entry in os.scandir(self.path / sub):
                key, _, flags = entry.name.partition(":2,")
                if key == message.key:
                    self._flag_seen(key, Path(entry.path))
                    return

    def _flag_seen(self, key: str, path: Path) -> None:
        flags = path.name.partition(":2,")[2]
        new_flags = "".join(sorted(set(flags) | {"S"}))
        try:
            os.replace(path, self.path / "cur" / f"{key}:2,{new_flags}")
        except FileNotFoundError:
            pass  # moved by another process; the content key keeps us exactly-once

    def wait_for_mail(self, *, timeout: float, stop: threading.Event) -> bool:
        stop.wait(timeout)
        return False
