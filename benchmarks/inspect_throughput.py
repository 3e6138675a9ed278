"""Understanding messages: ``intake.understand.understand`` (what `jiebang inspect` and the
service run on every message), in process, on a generated corpus of typical mails.

    .venv/bin/python benchmarks/inspect_throughput.py [--repeat 3] [--cores 1] [--readme]

Builds, with the test factories, a ~20-page application form (.docx), its PDF and a .doc
(LibreOffice), a scan of the PDF (every page rasterised at 150 dpi), a city package zip
(推荐汇总表 .xlsx + two applications as Word and PDF), then measures:

- seconds per message type (median of ``--repeat`` runs after one warm-up), pages/s per
  document format, and messages/s over a stated mix of message types;
- peak RSS (VmHWM) of a fresh process understanding one mail with a 50 MB
  attachment (a high-resolution scan; a city package zip with that scan inside) and
  archive bombs, against the typical mail as a control.

The process is pinned to ``--cores`` CPUs (LibreOffice and OCR inherit the pinning;
OCR uses as many threads). Figures go to stdout as Markdown, to
``benchmarks/results/inspect_throughput.json`` and, with ``--readme``, into this script's
section of ``benchmarks/README.md`` (replaced if present, nothing else touched).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README_HEADING = "## Understanding messages — inspect_throughput.py"
MiB = 1024 * 1024
CST = timezone(timedelta(hours=8))


def _pin(cores: int) -> None:
    """Pin this process (and the LibreOffice / OCR work it starts) to ``cores`` CPUs."""
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, set(allowed[:cores]))
    for var in ("JIEBANG_OCR_THREADS", "OMP_NUM_THREADS"):
        os.environ[var] = str(cores)


def _imports():
    sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "intake")]
    from campaign.policy import CityBureau, RoundPolicy

    return RoundPolicy(
        deadlines={
            "direct": date(2025, 1, 20),
            "city_applicant": date(2025, 1, 15),
            "city_bureau": date(2025, 1, 20),
        },
        cities={"济南市": CityBureau("济南市", ("dsjj@jinan.example",), "王科长", "0531-1")},
        own_addresses=frozenset({"dsjjzcghc@shandong.cn"}),
    )


# -- the corpus -------------------------------------------------------------------------------

_PHRASES = [
    "围绕数据要素市场化配置改革的部署要求",
    "构建覆盖数据采集、加工、流通、应用全流程的治理体系",
    "依托已建成的数据中心和算力资源搭建试验环境",
    "组织法律、经济、技术等多学科专家开展联合攻关",
    "形成可复制、可推广的实践案例和应用场景",
    "综合运用大数据、人工智能、隐私计算、区块链等技术手段",
    "保障数据可用不可见、可控可计量",
    "推动公共数据资源授权运营规范化、制度化",
    "建立数据质量评价指标体系和评估方法",
    "坚持发展与安全并重，守住数据安全底线",
    "预计可带动相关数据流通规模增长百分之二十以上",
    "在真实业务环境中检验方案的可行性和有效性",
]


def _filler(rng: random.Random, chars: int) -> str:
    text = ""
    while len(text) < chars:
        text += "，".join(rng.sample(_PHRASES, 3)) + "。"
    return text


def long_form(spec, filler_pages: int, seed: int = 1) -> bytes:
    """The factory's form with ``filler_pages`` pages of 任务内容 and a team table before
    the closing 信用承诺, each ending with a page break (a stable page count)."""
    import docx
    from docx.enum.text import WD_BREAK
    from formfactory import make_docx

    rng = random.Random(seed)
    document = docx.Document(io.BytesIO(make_docx(spec)))
    anchor = next(p for p in document.paragraphs if p.text.startswith("七、"))
    for page in range(filler_pages):
        anchor.insert_paragraph_before(f"（{page + 1}）任务内容与实施方案")
        for _ in range(3):
            anchor.insert_paragraph_before(_filler(rng, 260))
        if page == 0:
            table = document.add_table(rows=1, cols=5, style="Table Grid")
            for cell, text in zip(table.rows[0].cells, ("序号", "姓名", "工作单位", "职务/职称", "任务分工"), strict=True):  # fmt: skip
                cell.text = text
            for n in range(1, 11):
                for cell, text in zip(table.add_row().cells, (str(n), f"成员{n}", spec.unit, "高级工程师", "平台研发"), strict=True):  # fmt: skip
                    cell.text = text
            anchor._p.addprevious(table._tbl)
        anchor.insert_paragraph_before().add_run().add_break(WD_BREAK.PAGE)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_pages(data: bytes) -> int:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        return len(document)
    finally:
        document.close()


def big_scan(pdf: bytes, target_bytes: int, dpi: int = 300) -> bytes:
    """A high-resolution colour scan (sensor noise, JPEG q=92) of ``pdf``'s pages, cycled
    until the file reaches ``target_bytes``: what a phone or MFP produces at 300 dpi.
    The JPEGs are embedded as they are (one decoded page in memory at a time)."""
    import numpy as np
    import pypdfium2 as pdfium
    from factory.pdfs import _assemble
    from PIL import Image

    rng = np.random.default_rng(3)
    document = pdfium.PdfDocument(pdf)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids, size, index = [], 0, 0
    while size < target_bytes:
        image = document[index % len(document)].render(scale=dpi / 72).to_numpy()[..., :3]
        noisy = np.clip(image.astype(np.int16) + rng.normal(0, 9, image.shape), 0, 255)
        del image
        height, width = noisy.shape[:2]
        encoded = io.BytesIO()
        Image.fromarray(noisy.astype(np.uint8), "RGB").save(encoded, "JPEG", quality=92)
        jpeg = encoded.getvalue()
        size += len(jpeg)
        objects.append(
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
            b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n%s\nendstream"
            % (width, height, len(jpeg), jpeg)
        )
        w, h = width * 72 / dpi, height * 72 / dpi
        ops = b"q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q" % (w, h)
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(ops), ops))
        image_id, content_id = len(objects) - 1, len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Contents %d 0 R "
            b"/Resources << /XObject << /Im0 %d 0 R >> >> >>" % (w, h, content_id, image_id)
        )
        kids.append(len(objects))
        index += 1
    document.close()
    refs = b" ".join(b"%d 0 R" % k for k in kids)
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids))
    return _assemble(objects, 1, b"")


def zeros_zip(name: str, mib: int) -> bytes:
    """One deflated member of ``mib`` MiB of zeros (~1000:1), streamed: the bomb is never
    held unpacked by the benchmark itself."""
    import zipfile

    out, chunk = io.BytesIO(), bytes(MiB)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(name, "w", force_zip64=True) as member:
            for _ in range(mib):
                member.write(chunk)
    return out.getvalue()


CONTROL = "typical mail (docx + PDF), control"
SCAN_CONTROL = "scanned PDF (150 dpi, 20 pages), OCR control"
VIDEO = "50 MB attachment that is not opened (.mp4): MIME parsing alone"


def build(work: Path) -> dict:
    """Every document and mail of the benchmark; LibreOffice runs twice (PDF, .doc)."""
    from factory import office
    from factory.archives import make_zip
    from formfactory import FormSpec, make_eml, make_table_xlsx, scan_pdf, variant

    started = time.perf_counter()
    main = FormSpec(
        unit="山东示例数据科技有限公司",
        task_types=["theory", "application"],
        outcomes=["研究报告", "应用场景"],
        partners=["齐鲁数据研究院"],
    )
    city_a = variant(main, unit="济南甲数据服务有限公司", direction=2, nature="其他")
    city_b = variant(main, unit="济南乙信息技术有限公司", direction=4, nature="其他")
    forms = {
        "main.docx": long_form(main, 18),
        "city_a.docx": long_form(city_a, 18, seed=2),
        "city_b.docx": long_form(city_b, 18, seed=3),
    }
    pdfs = office.convert(forms, "pdf")
    doc = office.convert({"main.docx": forms["main.docx"]}, "doc:MS Word 97")["main.doc"]
    scan = scan_pdf(pdfs["main.pdf"], dpi=150)
    table = make_table_xlsx([city_a, city_b], city="济南市")
    package = make_zip(
        {
            "济南市推荐汇总表.xlsx": table,
            f"{city_a.unit}-申报书.docx": forms["city_a.docx"],
            f"{city_a.unit}-申报书（盖章）.pdf": pdfs["city_a.pdf"],
            f"{city_b.unit}-申报书.docx": forms["city_b.docx"],
            f"{city_b.unit}-申报书（盖章）.pdf": pdfs["city_b.pdf"],
        },
        gbk_names=True,
    )
    pages = pdf_pages(pdfs["main.pdf"])
    when = datetime(2025, 1, 14, 10, 0, tzinfo=CST)
    name = f"2025年揭榜挂帅申报书（{main.unit}）"

    def mail(attachments, **kw) -> bytes:
        return make_eml(attachments=attachments, received=when, **kw)

    mails = {
        "docx_pdf": mail([(f"{name}.docx", forms["main.docx"]), (f"{name}.pdf", pdfs["main.pdf"])]),
        "docx": mail([(f"{name}.docx", forms["main.docx"])]),
        "pdf": mail([(f"{name}.pdf", pdfs["main.pdf"])]),
        "scan": mail([(f"{name}（扫描件）.pdf", scan)]),
        "doc": mail([(f"{name}.doc", doc)]),
        "city_zip": mail(
            [("济南市揭榜挂帅推荐材料.zip", package)],
            sender="dsjj@jinan.example",
            subject="济南市2025年揭榜挂帅推荐材料",
        ),
        "status_query": mail(
            [], subject="Re: 申报受理回执 JB2025-0007", body="请问我单位的申报材料审核进度如何？"
        ),
        "auto_reply": mail(
            [],
            subject="自动回复：申报受理回执",
            headers={"Auto-Submitted": "auto-replied"},
            body="您好，我已休假，1月20日返回。",
        ),  # fmt: skip
    }
    scan_50 = big_scan(pdfs["main.pdf"], 50 * MiB)
    bomb_member = zeros_zip("报表.docx", 1024)  # 1 GiB of zeros, ~1 MB packed
    inner = zeros_zip("报表.docx", 100)
    heavy = {
        CONTROL: mails["docx_pdf"],
        SCAN_CONTROL: mails["scan"],
        VIDEO: mail([("答辩演示视频.mp4", os.urandom(50 * MiB))]),
        f"50 MB attachment: 300-dpi scan PDF ({len(scan_50) / MiB:.0f} MB, {pdf_pages(scan_50)} pages)": mail(
            [(f"{name}（高清扫描）.pdf", scan_50)]
        ),
        "50 MB attachment: city package zip holding that scan": mail(
            [("推荐材料.zip", make_zip({"济南市推荐汇总表.xlsx": table, "申报书（高清扫描）.pdf": scan_50}))]
        ),
        "zip bomb: 1 GiB of zeros in one member (1 MB zip)": mail([("申报材料.zip", bomb_member)]),
        "nested bomb: zip of 10 zips of 100 MiB zeros each": mail(
            [("申报材料.zip", make_zip({f"part{i}.zip": inner for i in range(10)}))]
        ),
    }  # fmt: skip
    for key, raw in heavy.items():
        path = work / f"heavy-{len(key)}-{abs(hash(key)) % 10**6}.eml"
        path.write_bytes(raw)
        heavy[key] = path
    return {
        "mails": mails,
        "heavy": heavy,
        "pages": {"docx": pages, "pdf": pages, "scan": pdf_pages(scan), "doc": pages},
        "sizes": {
            "docx": len(forms["main.docx"]),
            "pdf": len(pdfs["main.pdf"]),
            "scan": len(scan),
            "doc": len(doc),
            "city_zip": len(package),
        },
        "build_seconds": time.perf_counter() - started,
    }


# -- measuring ---------------------------------------------------------------------------------


def timed(raw: bytes, policy, repeat: int) -> tuple[float, object]:
    from intake.understand import understand

    understand(raw, policy)  # warm-up: OCR models, LibreOffice profile, caches
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = understand(raw, policy)
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _peak_kb() -> int:
    """This process's peak RSS. Linux keeps ``ru_maxrss`` across fork + exec (a child
    would report the parent's peak); VmHWM belongs to the new address space."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _size(count: int) -> str:
    if count >= 10 * MiB:
        return f"{count / MiB:.0f} MB"
    if count >= MiB:
        return f"{count / MiB:.1f} MB"
    return f"{count / 1024:.0f} KB" if count >= 10 * 1024 else f"{count / 1024:.1f} KB"


def child(path: str) -> None:
    """Fresh process: peak RSS after imports, then after understanding one mail."""
    policy = _imports()
    import intake.documents  # noqa: F401 - the parsers, as the service has them loaded
    import intake.mime  # noqa: F401
    from intake.documents.ocr import _engine
    from intake.understand import understand

    _engine()  # the OCR models, loaded once per service process

    before = _peak_kb()
    raw = Path(path).read_bytes()
    started = time.perf_counter()
    result = understand(raw, policy)
    seconds = time.perf_counter() - started
    del raw
    peak = _peak_kb()
    docs = [
        {"name": d.name, "format": d.format, "readable": d.readable, "error": d.error}
        for d in result.documents
    ]
    print(json.dumps({"before_kb": before, "peak_kb": peak, "seconds": seconds, "documents": docs}))


def rss(path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        check=True, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


# Share of each message type in the mix (an intake mailbox during the round): most mail
# is an application (Word + sealed PDF, or one of them); a few are legacy .doc or scans;
# city packages are rare but heavy; a third is replies, queries and robots.
MIX = {
    "docx_pdf": 40,
    "docx": 10,
    "pdf": 5,
    "doc": 5,
    "scan": 5,
    "city_zip": 5,
    "status_query": 15,
    "auto_reply": 15,
}
LABELS = {
    "docx_pdf": "application: 20-page .docx + its PDF",
    "docx": ".docx form only",
    "pdf": "text PDF only",
    "scan": "scanned PDF only (150 dpi)",
    "doc": ".doc form only (LibreOffice)",
    "city_zip": "city package .zip (xlsx table + 2 × Word + PDF)",
    "status_query": "status query (no attachment)",
    "auto_reply": "auto-reply (no attachment)",
}


def measure(corpus: dict, policy, repeat: int) -> dict:
    seconds, notes = {}, {}
    for key, raw in corpus["mails"].items():
        seconds[key], result = timed(raw, policy, repeat)
        notes[key] = {
            "bytes": len(raw),
            "intent": result.intent,
            "deficiencies": [d.code for d in result.deficiencies],
            "documents": [(d.name, d.format, d.readable, d.pages) for d in result.documents],
        }
    weighted = sum(MIX[k] * seconds[k] for k in MIX) / sum(MIX.values())
    return {"seconds": seconds, "notes": notes, "mix_seconds": weighted}


def markdown(corpus: dict, timing: dict, memory: dict, args) -> str:
    s, pages = timing["seconds"], corpus["pages"]
    lines = [
        f"Measured {date.today().isoformat()} on {platform.machine()}, "
        f"{len(os.sched_getaffinity(0))} of {os.cpu_count()} cores "
        f"(pinned; OCR threads = {args.cores}), Python {platform.python_version()}, "
        f"median of {args.repeat} runs after a warm-up; `understand()` in process "
        f"(parse, open, classify, extract, checks). Corpus built in {corpus['build_seconds']:.0f} s.",
        "",
        "| message | size | seconds | messages/s | pages/s |",
        "|---|---:|---:|---:|---:|",
    ]
    page_of = {
        "docx": pages["docx"],
        "pdf": pages["pdf"],
        "scan": pages["scan"],
        "doc": pages["doc"],
    }
    for key in MIX:
        size = timing["notes"][key]["bytes"]
        per_page = f"{page_of[key] / s[key]:.0f}" if key in page_of else "—"
        lines.append(
            f"| {LABELS[key]} | {_size(size)} | {s[key]:.3f} | {1 / s[key]:.1f} | {per_page} |"
        )
    mix = ", ".join(f"{v}% {k}" for k, v in MIX.items())
    lines += [
        f"| **mix** ({mix}) | | {timing['mix_seconds']:.3f} | **{1 / timing['mix_seconds']:.1f}** | |",
        "",
        f"The form is {pages['pdf']} pages (LibreOffice's PDF; the .docx and .doc are counted "
        f"with the same pages). The scan is {pages['scan']} pages; intake OCRs at most "
        "`Limits.ocr_pages` (2) of them, so its pages/s counts pages handled, not recognised.",
        "",
        "Peak RSS of a fresh process understanding one mail (VmHWM; the baseline is after "
        "imports and loading the OCR models; the peak includes the raw mail in memory):",
        "",
        "| input | mail size | seconds | baseline RSS | peak RSS | documents |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for label, m in memory.items():
        shown = [
            f"{d['format']}{'' if d['readable'] else ' ✗ ' + (d['error'] or '')[:40]}"
            for d in m["documents"]
        ]
        docs = "; ".join(
            f"{shown.count(x)} × {x}" if shown.count(x) > 1 else x for x in dict.fromkeys(shown)
        )
        lines.append(
            f"| {label} | {_size(m['mail_bytes'])} | {m['seconds']:.2f} | "
            f"{m['before_kb'] / 1024:.0f} MB | {m['peak_kb'] / 1024:.0f} MB | {docs} |"
        )
    if VIDEO in memory and SCAN_CONTROL in memory:
        video, scan = memory[VIDEO], memory[SCAN_CONTROL]
        parse = (video["peak_kb"] - video["before_kb"]) * 1024
        ocr = (scan["peak_kb"] - scan["before_kb"]) * 1024
        lines += [
            "",
            f"Parsing a mail costs about {parse / video['mail_bytes']:.1f}× its size at peak "
            f"({_size(parse)} for the {_size(video['mail_bytes'])} mail that carries an "
            f"attachment intake does not open), so peak RSS grows with the input; OCR adds a "
            f"fixed {_size(ocr)} or so (bounded by the render size, not by the file).",
        ]
    return "\n".join(lines)


def write_readme(table: str) -> None:
    readme = REPO / "benchmarks" / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, _, rest = text.partition(README_HEADING)
    head = head.rstrip("\n")
    # the sections after this one stay as they are (only this one is rewritten)
    after = rest.find("\n## ")
    tail = rest[after:].lstrip("\n") if after >= 0 else ""
    usage = (
        "```\n.venv/bin/python benchmarks/inspect_throughput.py --repeat 3 --cores 1 --readme\n```\n\n"
        "Builds typical mails with the test factories (see the script's docstring) and runs\n"
        "`intake.understand.understand` on each in process — the code behind `jiebang inspect`\n"
        "and the service. This section is rewritten by `--readme`.\n"
    )
    section = f"{README_HEADING}\n\n{usage}\n{table}\n"
    readme.write_text(f"{head}\n\n{section}" + (f"\n{tail}" if tail else ""), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cores", type=int, default=1)
    ap.add_argument("--readme", action="store_true", help="rewrite this script's README section")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    _pin(args.cores)
    policy = _imports()
    with tempfile.TemporaryDirectory(prefix="jb-bench-") as tmp:
        corpus = build(Path(tmp))
        print(f"corpus built in {corpus['build_seconds']:.1f} s", file=sys.stderr)
        timing = measure(corpus, policy, args.repeat)
        memory = {}
        if not args.skip_memory:
            for label, path in corpus["heavy"].items():
                print(f"RSS: {label}", file=sys.stderr)
                memory[label] = {**rss(path), "mail_bytes": path.stat().st_size}
    table = markdown(corpus, timing, memory, args)
    print(table)
    out = REPO / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "inspect_throughput.json").write_text(
        json.dumps({"timing": timing, "memory": memory, "pages": corpus["pages"],
                    "sizes": corpus["sizes"]}, ensure_ascii=False, indent=1, default=str),
        encoding="utf-8",
    )  # fmt: skip
    if args.readme:
        write_readme(table)


if __name__ == "__main__":
    main()
