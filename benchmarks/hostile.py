"""Hostile mail ahead of good mail: does one `jiebang run --once` survive and stay small?

Builds a Maildir with eleven hostile mails first — poison Date and From headers, a PDF
whose stream inflates to 1 GiB, a 500 MiB zip, a docx with 80 MiB of XML, 10,000
parts, a zip nested 20 deep, documents linking a remote image (a local HTTP listener
counts requests) — then the good mail (the public samples when ../shared is beside the
repository, else the project's examples). Runs `jiebang run --once` up to three times
and prints, per run: exit code, seconds, peak RSS of the service process and of any one
worker (psutil polling of the process tree), and at the end what is left pending,
quarantined with which cause, and how many remote requests were made.

    .venv/bin/python benchmarks/hostile.py [--workers N]
"""

from __future__ import annotations

import argparse
import http.server
import importlib.util
import json
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO)]

from support import SHARED  # noqa: E402
from support.factory import bombs  # noqa: E402
from support.helpers import make_mail  # noqa: E402

from intake.sources.receiver import deliver_to_maildir  # noqa: E402

MiB = 1 << 20


def _sandbox_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("sandbox", REPO / "tests/intake/test_office_sandbox.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class _Counter(http.server.BaseHTTPRequestHandler):
    hits = 0

    def _any(self) -> None:
        type(self).hits += 1
        self.send_response(404)
        self.end_headers()

    do_GET = do_HEAD = do_OPTIONS = do_PROPFIND = do_POST = _any

    def log_message(self, *args: object) -> None:
        pass


def _mail(subject: str, files: list[tuple[str, bytes]]) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "attacker@evil.example.net", "dsjjzcghc@shandong.cn", subject
    msg["Date"] = "Fri, 10 Jan 2025 09:30:00 +0800"
    msg.set_content("揭榜挂帅申报材料见附件。")
    for name, data in files:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


def hostile(work: Path, base: str) -> dict[str, bytes]:
    plain = make_mail(subject="毒头", sender="poison@example.cn")
    sandbox = _sandbox_module()
    zip500 = bombs.zip_of_texts(work / "500.zip", members=5, each=100 * MiB).read_bytes()
    docx80 = bombs.docx_with_huge_xml(work / "80.docx", xml_bytes=80 * MiB).read_bytes()
    return {
        "date-offset": plain.replace(b"Date: ", b"Date: Fri, 10 Jan 2025 09:30:00 +9999\nX-Old-Date: ", 1),
        "date-year": plain.replace(b"Date: ", b"Date: Fri, 10 Jan 99999999999 09:30:00 +0800\nX-Old-Date: ", 1),
        "from-parens": b"From: " + b"(" * 600 + b"x@example.cn\n" + plain,
        "from-groups": b"From: " + b"a:" * 5000 + b"x@example.cn\n" + plain,
        "pdf-1gib": _mail("申报书", [("申报书.pdf", bombs.pdf_content_bomb(1 << 30))]),
        "zip-500mib": _mail("申报材料", [("材料.zip", zip500)]),
        "docx-80mib-xml": _mail("申报书", [("申报书.docx", docx80)]),
        "10000-parts": bombs.mail_with_parts(10_000),
        "zip-20-deep": _mail("申报材料", [("套娃.zip", bombs.nested_zip(20))]),
        "odt-remote-image": _mail("申报书", [("申报书.odt", sandbox.linked_image_odt(base))]),
        "rtf-remote-fields": _mail("申报书", [("申报书.rtf", sandbox.fields_and_template_rtf(base))]),
    }


def good() -> list[bytes]:
    samples = SHARED / "samples" / "mails"
    if samples.is_dir():
        return [p.read_bytes() for p in sorted(samples.glob("*.eml"))]
    return [p.read_bytes() for p in sorted((REPO / "examples" / "mails").glob("*.eml"))]


def run_once(config: Path) -> dict[str, float]:
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "tracker.cli", "run", "--once", "--config", str(config)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parent = psutil.Process(proc.pid)
    peak_service = peak_worker = 0
    while proc.poll() is None:
        try:
            peak_service = max(peak_service, parent.memory_info().rss)
            for child in parent.children(recursive=True):
                try:
                    peak_worker = max(peak_worker, child.memory_info().rss)
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        time.sleep(0.05)
    proc.stderr.read()  # type: ignore[union-attr]
    return {"exit": proc.returncode, "seconds": time.monotonic() - started,
            "service_mb": peak_service / MiB, "worker_mb": peak_worker / MiB}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=None, help="processing.workers (default: CPU count)")
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="jiebang-hostile-") as tmp:
        work = Path(tmp)
        config = work / "config.yaml"
        processing = {} if args.workers is None else {"workers": args.workers}
        config.write_text(yaml.safe_dump({
            "mailbox": {"url": "maildir:inbox", "address": "dsjjzcghc@shandong.cn"},
            "smtp": {"url": "maildir:outbox", "from": "dsjjzcghc@shandong.cn"},
            "database": {"url": "sqlite:///jiebang.db"}, "storage": {"path": "store"},
            "processing": processing,
        }, allow_unicode=True))
        mails = hostile(work, base)
        for raw in mails.values():
            deliver_to_maildir(work / "inbox", raw)
        goods = good()
        for raw in goods:
            deliver_to_maildir(work / "inbox", raw)
        print(f"{len(mails)} hostile + {len(goods)} good mails; workers={args.workers or 'CPU count'}")
        print(f"{'run':>4} {'exit':>5} {'seconds':>8} {'service MB':>11} {'worker MB':>10}")
        for n in range(1, 4):
            r = run_once(config)
            print(f"{n:>4} {r['exit']:>5} {r['seconds']:>8.1f} {r['service_mb']:>11.0f} {r['worker_mb']:>10.0f}")
            rows = json.loads(subprocess.run([sys.executable, "-m", "tracker.cli", "messages", "--json", "--config",
                                              str(config)], cwd=REPO, capture_output=True).stdout)
            if all(row["state"] != "stored" for row in rows):
                break
        states: dict[str, int] = {}
        for row in rows:
            states[row["state"]] = states.get(row["state"], 0) + 1
        print("messages:", states)
        for row in rows:
            if row["state"] == "quarantined":
                print(f"  quarantined: {row['subject'][:20]!r}: {(row['error'] or '')[:100]}")
        print("remote requests seen by the listener:", _Counter.hits)
    server.shutdown()


if __name__ == "__main__":
    main()
