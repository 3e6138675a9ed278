#!/usr/bin/env bash
# Install jiebang and run it on embedded defaults (SQLite, Maildir inbox, local SMTP
# receiver on 127.0.0.1:2525, file outbox — everything under var/, no accounts).
# It drops the project's example messages into the inbox (one goes through the local
# SMTP receiver), shows what was ingested and answered,
# and keeps the service running (Ctrl-C stops it; JIEBANG_DEMO_EXIT=1 exits).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(libreoffice-writer-nogui libreoffice-calc-nogui p7zip-full fonts-noto-cjk swaks)
bash scripts/debs.sh "${DEBS[@]}"

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e .
export JIEBANG_CONFIG="$PWD/config.yaml"
J=.venv/bin/jiebang

if (exec 3<>/dev/tcp/127.0.0.1/2525) 2>/dev/null; then
  echo "127.0.0.1:2525 is already taken (another jiebang run?): stop it first"; exit 1
fi
echo "== starting: jiebang run (config.yaml: Maildir var/inbox, SQLite var/jiebang.db, receiver 127.0.0.1:2525)"
$J run &
service=$!
# whatever happens below, never leave the service running behind the user's back
trap 'kill -TERM $service 2>/dev/null; wait $service 2>/dev/null' EXIT

for _ in $(seq 1 100); do
  kill -0 $service 2>/dev/null || { echo "jiebang run stopped (see the line above)"; exit 1; }
  (exec 3<>/dev/tcp/127.0.0.1/2525) 2>/dev/null && break
  sleep 0.2
done
# the example mails keep the Received: stamps of their (fictional) January 2025 delivery,
# so they are dropped into the Maildir as an MTA would; one goes through the SMTP
# receiver, which stamps it with today's time
mkdir -p var/inbox/tmp var/inbox/new var/inbox/cur
for f in examples/mails/*.eml; do
  case "$f" in *04-status-query*) continue ;; esac
  name="$(date +%s%N).$(basename "$f" .eml).quickstart"
  cp "$f" "var/inbox/tmp/$name" && mv "var/inbox/tmp/$name" "var/inbox/new/$name"
  echo "== dropped $(basename "$f") into var/inbox"
done
sleep 1
.venv/bin/python - <<'PY'
import pathlib, re, smtplib
path = pathlib.Path("examples/mails/04-status-query.eml")
data = re.sub(rb"\r?\n", b"\r\n", path.read_bytes())  # SMTP wants CRLF line ends
with smtplib.SMTP("127.0.0.1", 2525, timeout=30) as smtp:
    smtp.sendmail("demo@example.cn", ["dsjjzcghc@shandong.cn"], data)
print(f"== mailed {path.name} to the local SMTP receiver on 127.0.0.1:2525")
PY

echo "== waiting for the service to pick them up"
expected=$(ls examples/mails/*.eml | wc -l)
for _ in $(seq 1 90); do
  done_count=$($J messages --json 2>/dev/null | .venv/bin/python -c \
    'import json,sys; print(sum(m["state"] != "stored" for m in json.load(sys.stdin)))' || echo 0)
  [ "$done_count" -ge "$expected" ] && break
  sleep 2
done
sleep 2  # let the outbox job send the answers
$J messages
$J list
$J outbox
echo "== answers written to the file outbox: var/outbox/new/"

if [ "${JIEBANG_DEMO_EXIT:-0}" = "1" ]; then
  exit 0
fi
echo "== jiebang is running. Its command is $J (or: source .venv/bin/activate; jiebang --help)."
echo "== Send your own form: swaks --server 127.0.0.1:2525 --to dsjjzcghc@shandong.cn --attach-type application/vnd.openxmlformats-officedocument.wordprocessingml.document --attach-name 申报书.docx --attach @申报书.docx"
echo "== Ctrl-C stops it."
wait $service
