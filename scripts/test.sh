#!/usr/bin/env bash
# Install everything the tests need (Debian + pip) and run the whole suite.
# Real servers: the suite starts its own Dovecot and PostgreSQL on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(dovecot-imapd postgresql libreoffice-writer-nogui libreoffice-calc-nogui p7zip-full
      fonts-noto-cjk swaks chromium)
bash scripts/debs.sh "${DEBS[@]}"

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'

.venv/bin/ruff check .
.venv/bin/lint-imports            # layers and no import cycles (pyproject: [tool.importlinter])
.venv/bin/mypy                    # every package, strict (pyproject: [tool.mypy])
# Everything, slow and browser tests included: `-m ""` replaces the default selection in
# pyproject.toml's addopts (-m "not slow and not browser"; the last -m wins), and a -m
# among "$@" (after it) still narrows the run, e.g. `bash scripts/test.sh -m slow`.
exec .venv/bin/python -m pytest -q -m "" "$@"
