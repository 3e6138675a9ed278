#!/usr/bin/env bash
# Install everything the tests need (Debian + pip) and run the whole suite.
# Real servers: the suite starts its own Dovecot and PostgreSQL on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(dovecot-imapd postgresql libreoffice-writer-nogui libreoffice-calc-nogui p7zip-full
      fonts-noto-cjk swaks chromium)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # packages' own services must not start (the tests run private instances)
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'

.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q "$@"
