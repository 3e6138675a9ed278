"""Every exit code `jiebang` uses, in one place (the README's table lists them).

The sysexits(3) values matter to an MTA calling `jiebang ingest` in pipe mode: 75
(EX_TEMPFAIL) makes Postfix keep the message and retry; 65 (EX_DATAERR) bounces it.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # a command could not do what was asked (unknown reference, refused change)
    CONFIG = 2  # configuration error: one line naming the key
    MAILBOX = 3  # the mailbox or the local receiver is unavailable
    DATABASE = 4  # the database is unavailable
    DATAERR = 65  # `ingest`: the input is not a message at all (empty); do not retry
    NOINPUT = 66  # `inspect`: the file cannot be read
    TEMPFAIL = 75  # `ingest`: not committed; the MTA should try again later


EXIT_FAILURE = ExitCode.FAILURE
EXIT_CONFIG = ExitCode.CONFIG
EXIT_MAILBOX = ExitCode.MAILBOX
EXIT_DATABASE = ExitCode.DATABASE
EX_DATAERR = ExitCode.DATAERR
EX_NOINPUT = ExitCode.NOINPUT
EX_TEMPFAIL = ExitCode.TEMPFAIL
