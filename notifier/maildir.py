"""The embedded default transport: a Maildir the operator (or a relay) picks up.

Each message is written to ``tmp/``, fsynced, then renamed into ``new/`` — readers
never see a half-written file, and a crash leaves at most a stray file in ``tmp/``.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
from email.message import EmailMessage
from pathlib import Path

from notifier.transport import TransientSendError

_counter = itertools.count()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class MaildirTransport:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"MaildirTransport({self.path})"

    def _unique_name(self) -> str:
        host = socket.gethostname().replace("/", "\\057").replace(":", "\\072")
        return f"{time.time_ns()}.P{os.getpid()}Q{next(_counter)}.{host}"

    def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None:
        policy = message.policy.clone(linesep="\n")  # Maildir files use the local line ending
        data = message.as_bytes(policy=policy)
        try:
            for sub in ("tmp", "new", "cur"):
                (self.path / sub).mkdir(parents=True, exist_ok=True)
            name = self._unique_name()
            tmp = self.path / "tmp" / name
            with open(tmp, "xb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.rename(tmp, self.path / "new" / name)
            _fsync_dir(self.path / "new")
        except OSError as exc:  # disk full, permissions: may clear up, so retry later
            raise TransientSendError(f"maildir {self.path}: {exc.strerror or exc}") from exc
