"""Test support: fixtures' servers, document and mail factories, helpers.

Modules
    helpers          config files, simple mails, running `jiebang` as a subprocess
    records          seeding records through the real pipeline (records, digest tests)
    formfactory      application forms and city tables in many layouts
    unseen           the generated unseen-layout corpus
    inspect_contract the `inspect --json` contract checker
    mail_contexts    realistic template contexts for every outgoing mail
    digests          an example digest context without a database
    smtp             SMTP test servers with TLS and a clock
    servers/         real Dovecot, PostgreSQL and SMTP servers on loopback
    factory/         Word, PDF, office, archive and mail builders

``SHARED`` is the project's shared folder (``../shared`` or ``$JIEBANG_SHARED``); tests
that read it are marked ``needs_shared`` and skip cleanly where it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("JIEBANG_SHARED") or REPO.parent / "shared")

needs_shared = pytest.mark.skipif(not (SHARED / "samples").is_dir(),
                                  reason=f"{SHARED} is absent (the shared corpora live beside the repository)")
