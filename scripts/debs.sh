#!/usr/bin/env bash
# Install the Debian packages named as arguments, those not installed yet (root or sudo).
# Their own services must not start: jiebang runs private instances where it needs them.
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# another apt/dpkg (unattended-upgrades, a second set-up script) may hold the lock:
# wait for it, up to 10 minutes, rather than failing
WAIT=(-o DPkg::Lock::Timeout=600)
for _ in $(seq 1 120); do  # apt-get update has no lock timeout of its own for the lists lock
  $SUDO apt-get "${WAIT[@]}" update -qq && break
  echo "apt-get update failed (lock held?); retrying in 5 s"; sleep 5
done
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
fi
$SUDO apt-get "${WAIT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
