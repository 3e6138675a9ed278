"""Photos and scans of printed forms and tables (issue #22, items 1-2): fields, findings, cost.

    .venv/bin/python benchmarks/photos.py [--cases a,b] [--json PATH] [--rss]

Runs ``intake.understand.understand`` (what `jiebang inspect` and the service run) on the
generated cases of ``tests/support/photos.py``: a form photographed page by page, scans
turned 90°/180°/270°, EXIF orientation, a red seal over the unit's name and credit code,
a 推荐汇总表 only as a photo or a scanned PDF. For each it compares

- the fields each application must show (unit, credit code, direction, unit nature) and
  the number of applications (one per form, not one per page);
- the recommendations a table must give (unit, direction, rank);
- the set of deficiency codes with the exact set the mail deserves (precision/recall);

and reports seconds per OCR'd page. ``--rss`` also measures the peak resident memory of
one ``understand()`` of a four-page photo set in a fresh process (OCR engine included).

To measure another tree (the branch's start, say), put its ``intake`` first on
``PYTHONPATH``; the cases always come from this checkout's tests.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(1, str(REPO / "tests"))  # after the script's folder; PYTHONPATH may come first
sys.path.append(str(REPO))

from support.photos import CASES, PhotoCase  # noqa: E402
from support.unseen import make_docx  # noqa: E402,F401  (imported: the factory's fonts load once)

from intake.understand import understand  # noqa: E402
from tracker.config import load_settings  # noqa: E402

POLICY = load_settings(REPO / "tests" / "support" / "samples-config.yaml").round_policy()
FIELDS = ("unit", "uscc", "direction", "unit_nature")


def score(case: PhotoCase, result: Any) -> dict[str, Any]:
    got = [a.contract() for a in result.applications]
    fields_right = fields_total = 0
    for index, want in enumerate(case.applications):
        have = got[index] if index < len(got) else {}
        for name in FIELDS:
            if name in want:
                fields_total += 1
                fields_right += have.get(name) == want[name]
    recs = [(r.unit, r.direction, r.rank) for r in result.recommendations]
    rec_right = sum(1 for r in case.recommendations if r in recs)
    codes = {d.code for d in result.deficiencies}
    return {
        "fields": (fields_right, fields_total),
        "applications": (len(got), len(case.applications)),
        "recommendations": (rec_right, len(case.recommendations), len(recs)),
        "true": sorted(codes & case.codes),
        "false": sorted(codes - case.codes),
        "missed": sorted(case.codes - codes),
        "ocr_pages": sum(d.pages for d in result.documents if d.scanned and not getattr(d, "part_of", None)),
    }


_READS: list[tuple[int, int]] = []  # (width, height) of every image OCR read


def _count_reads() -> None:
    """Count OCR reads (a page read twice, or tried small, shows here)."""
    from intake.documents import ocr

    if hasattr(ocr, "ocr_lines"):
        inner = ocr.ocr_lines

        def counted(image: Any, **kw: Any) -> Any:
            _READS.append(image.size)
            return inner(image, **kw)

        ocr.ocr_lines = counted  # type: ignore[assignment]
        images = sys.modules.get("intake.documents.images")
        if images is not None:
            images.ocr_lines = counted  # type: ignore[attr-defined]
    else:  # the tree before issue #22: one call per page
        inner_text = ocr.ocr_image

        def counted_text(image: Any, **kw: Any) -> Any:
            _READS.append(image.size)
            return inner_text(image, **kw)

        ocr.ocr_image = counted_text  # type: ignore[assignment]
        for module in ("intake.attachments", "intake.documents.pdf"):
            if module in sys.modules and hasattr(sys.modules[module], "ocr_image"):
                sys.modules[module].ocr_image = counted_text  # type: ignore[attr-defined]


def run(names: list[str]) -> dict[str, Any]:
    import intake.attachments  # noqa: F401  (its OCR imports, to be counted)
    import intake.documents.pdf  # noqa: F401

    _count_reads()
    rows = {}
    for name in names:
        case = CASES[name]
        raw = case.build()
        _READS.clear()
        started, cpu = time.perf_counter(), time.process_time()
        result = understand(raw, POLICY)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        row = score(case, result)
        row["seconds"] = round(seconds, 2)
        row["cpu"] = round(cpu, 2)
        row["reads"] = len(_READS)
        row["small_reads"] = sum(1 for w, h in _READS if max(w, h) <= 1200)
        row["kind"] = case.kind
        row["pages"] = case.pages
        rows[name] = row
        print(f"{name:36} {seconds:6.1f}s cpu {cpu:6.1f}s reads {row['reads']:2} fields {row['fields'][0]}/{row['fields'][1]} "
              f"apps {row['applications'][0]}/{row['applications'][1]} "
              f"recs {row['recommendations'][0]}/{row['recommendations'][1]} "
              f"false {row['false']} missed {row['missed']}", flush=True)  # fmt: skip
    return rows


def summary(rows: dict[str, Any]) -> str:
    out = ["| kind | cases | fields | applications right | recommendations | true | false | missed | precision | recall | CPU s/page |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    kinds = sorted({r["kind"] for r in rows.values()}) + ["all"]
    for kind in kinds:
        sel = [r for r in rows.values() if kind in ("all", r["kind"])]
        f_right = sum(r["fields"][0] for r in sel)
        f_total = sum(r["fields"][1] for r in sel)
        apps = sum(r["applications"][0] == r["applications"][1] for r in sel)
        rec_right = sum(r["recommendations"][0] for r in sel)
        rec_total = sum(r["recommendations"][1] for r in sel)
        true = sum(len(r["true"]) for r in sel)
        false = sum(len(r["false"]) for r in sel)
        missed = sum(len(r["missed"]) for r in sel)
        precision = f"{true / (true + false):.3f}" if true + false else "—"
        recall = f"{true / (true + missed):.3f}" if true + missed else "—"
        pages = sum(r["pages"] for r in sel)
        seconds = sum(r["cpu"] for r in sel)
        out.append(f"| {kind} | {len(sel)} | {f_right}/{f_total} | {apps}/{len(sel)} | {rec_right}/{rec_total} | "
                   f"{true} | {false} | {missed} | {precision} | {recall} | {seconds / max(pages, 1):.1f} |")  # fmt: skip
    errors = Counter(c for r in rows.values() for c in r["false"])
    out.append("")
    out.append(f"False findings by code: {dict(errors) or 'none'}")
    return "\n".join(out)


_RSS_CHILD = """
import resource, sys, time
sys.path.append({repo!r})  # after PYTHONPATH (another tree may come first)
from intake.understand import understand
print(__import__("intake").__file__, file=sys.stderr)
from tracker.config import load_settings
policy = load_settings({config!r}).round_policy()
raw = open({mail!r}, "rb").read()


def peak():  # VmHWM: this process's own peak (ru_maxrss keeps the forking parent's over exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


base = peak()
started = time.perf_counter()
result = understand(raw, policy)
print(base, peak(), time.perf_counter() - started, len(result.applications))
"""


def peak_rss(case: str = "photos_numbered") -> dict[str, float]:
    """Peak RSS of a fresh process that understands the mail once (built here, read there)."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".eml") as mail:
        mail.write(CASES[case].build())
        mail.flush()
        code = _RSS_CHILD.format(repo=str(REPO), mail=mail.name,
                                 config=str(REPO / "tests" / "support" / "samples-config.yaml"))  # fmt: skip
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             cwd=tempfile.gettempdir())  # (not this checkout first on the path)
    print("measured:", out.stderr.strip().splitlines()[0] if out.stderr.strip() else "?", file=sys.stderr)
    before, after, seconds, apps = out.stdout.split()[-4:]
    return {"peak_rss_mb_before": int(before) / 1024, "peak_rss_mb": int(after) / 1024,
            "seconds": float(seconds), "applications": int(apps)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument("--rss", action="store_true", help="measure one understand() of 4 photos")
    parser.add_argument("--rss-only", action="store_true", help="only that")
    args = parser.parse_args()
    names = args.cases.split(",") if args.cases else list(CASES)
    rows: dict[str, Any] = {}
    if not args.rss_only:
        rows = run(names)
        print()
        print(summary(rows))
    if args.rss or args.rss_only:
        rss = peak_rss()
        print(f"\nOne understand() of four photos, fresh process: peak RSS {rss['peak_rss_mb']:.0f} MB "
              f"(before it: {rss['peak_rss_mb_before']:.0f} MB), {rss['seconds']:.1f} s")  # fmt: skip
        rows["_rss"] = rss
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
