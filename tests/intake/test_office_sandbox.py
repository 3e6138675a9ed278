"""LibreOffice converts hostile documents without touching the network.

Every document here points at an HTTP listener on 127.0.0.1 (linked image, linked
section, linked OLE object, RTF INCLUDEPICTURE/INCLUDETEXT fields and template, an
HTML page saved as .doc, a spreadsheet with a linked sheet and WEBSERVICE()). Without
the network namespace LibreOffice does fetch some of them — OPTIONS, HEAD and GET —
so a listener that stays silent while the documents still convert shows the sandbox
works. Documents are built at test time; nothing binary is committed.
"""

from __future__ import annotations

import http.server
import io
import re
import threading
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from intake.documents import office
from intake.documents.docx import read_docx
from intake.documents.errors import ConversionFailed

pytestmark = pytest.mark.skipif(office.soffice_path() is None, reason="LibreOffice not installed")

TIMEOUT = 120.0


# -- a listener that counts everything ------------------------------------------------


class Listener(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.connections = 0
        self.requests: list[str] = []
        self.base = f"http://127.0.0.1:{self.server_address[1]}"


class _Recorder(http.server.BaseHTTPRequestHandler):
    server: Listener

    def handle(self) -> None:
        self.server.connections += 1  # counted before parsing: even a garbled request counts
        super().handle()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # OPTIONS, HEAD, GET, PROPFIND … whatever is asked
            return self._answer
        raise AttributeError(name)

    def _answer(self) -> None:
        self.server.requests.append(f"{self.command} {self.path}")
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# -- documents ------------------------------------------------------------------------

_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.2"'
)
_ODT = "application/vnd.oasis.opendocument.text"
_ODS = "application/vnd.oasis.opendocument.spreadsheet"


def odf(mime: str, body: str) -> bytes:
    """A minimal ODF package: mimetype first and stored, manifest, content."""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NS}>'
        f"<office:body>{body}</office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mime}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), mime)
        z.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _frame(inner: str) -> str:
    return (
        '<draw:frame draw:name="f" text:anchor-type="as-char" svg:width="1cm" svg:height="1cm">'
        f"{inner}</draw:frame>"
    )


def _link(url: str) -> str:
    return f'xlink:href="{url}" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"'


def linked_image_odt(base: str) -> bytes:
    image = _frame(f"<draw:image {_link(base + '/img.png')}/>")
    return odf(_ODT, f"<office:text><text:p>linked image {image}</text:p></office:text>")


def linked_section_and_ole_odt(base: str) -> bytes:
    ole = _frame(f"<draw:object {_link(base + '/object.ods')}/>")
    return odf(
        _ODT,
        "<office:text><text:p>linked section</text:p>"
        '<text:section text:name="S1">'
        f'<text:section-source xlink:href="{base}/section.odt" xlink:type="simple"'
        ' text:filter-name="writer8"/><text:p>stale copy</text:p></text:section>'
        f"<text:p>linked object {ole}</text:p>"
        "</office:text>",
    )


def fields_and_template_rtf(base: str) -> bytes:
    return (
        r"{\rtf1\ansi{\*\template " + base + r"/normal.dot}"
        r"rtf fields {\field{\*\fldinst INCLUDEPICTURE "
        f'"{base}/x.png"'
        r" \\d}{\fldrslt}} "
        r"{\field{\*\fldinst INCLUDETEXT "
        f'"{base}/t.txt"'
        r"}{\fldrslt old}}\par}"
    ).encode()


def section_source_fodt(base: str) -> bytes:
    """Flat (single XML) ODF, which LibreOffice recognises whatever the file name says."""
    image = _frame(f"<draw:image {_link(base + '/flat.png')}/>")
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document {_NS}'
        f' office:mimetype="{_ODT}"><office:body><office:text>'
        "<text:p>flat section</text:p>"
        '<text:section text:name="S2">'
        f'<text:section-source xlink:href="{base}/flat.odt" xlink:type="simple"/>'
        "<text:p>stale</text:p></text:section>"
        f"<text:p>{image}</text:p>"
        "</office:text></office:body></office:document>"
    ).encode()


def html_saved_as_doc(base: str) -> bytes:
    """The profile settings alone do not stop this one: the stylesheet is still fetched."""
    return (
        f'<html><head><link rel="stylesheet" href="{base}/style.css"></head>'
        f'<body><p>html page</p><img src="{base}/html.png"></body></html>'
    ).encode()


def linked_sheet_ods(base: str) -> bytes:
    cell = '<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>'
    return odf(
        _ODS,
        '<office:spreadsheet><table:table table:name="A">'
        f'<table:table-source xlink:href="{base}/linked.ods" xlink:type="simple"'
        ' table:table-name="A" table:mode="copy-all"/>'
        f"<table:table-row>{cell.format('linked sheet')}"
        f'<table:table-cell table:formula="of:=WEBSERVICE(&quot;{base}/ws&quot;)"'
        ' office:value-type="string"><text:p>cached</text:p></table:table-cell>'
        "</table:table-row></table:table></office:spreadsheet>",
    )


def rtf_text(text: str) -> bytes:
    """RTF with every non-ASCII character as a signed 16-bit \\u escape."""
    escaped = "".join(
        c if ord(c) < 128 else f"\\u{ord(c) - 65536 if ord(c) > 32767 else ord(c)}?" for c in text
    )
    return ("{\\rtf1\\ansi " + escaped + "\\par}").encode("ascii")


HARMLESS_RTF = "揭榜挂帅申报书 单位名称：山东某某研究院"
HARMLESS_ODT = "统一社会信用代码：12370000MA6QUE1R0M"


def hostile_jobs(base: str) -> dict[str, office.Job]:
    return {
        "linked_image": office.Job(linked_image_odt(base), "odt", "docx"),
        "linked_section_and_ole": office.Job(linked_section_and_ole_odt(base), "odt", "docx"),
        "fields_and_template": office.Job(fields_and_template_rtf(base), "rtf", "docx"),
        "section_source_fodt": office.Job(section_source_fodt(base), "fodt", "docx"),
        "html_saved_as_doc": office.Job(html_saved_as_doc(base), "doc", "docx"),
        "linked_sheet": office.Job(linked_sheet_ods(base), "ods", "xlsx"),
    }


def harmless_jobs() -> dict[str, office.Job]:
    odt = odf(_ODT, f"<office:text><text:p>{HARMLESS_ODT}</text:p></office:text>")
    return {
        "harmless_rtf": office.Job(rtf_text(HARMLESS_RTF), "rtf", "docx"),
        "harmless_odt": office.Job(odt, "odt", "docx"),
    }


@pytest.fixture(scope="module")
def converted(listener: Listener) -> dict[str, bytes | ConversionFailed]:
    """Everything in one convert() call: one soffice run per target format."""
    jobs = {**hostile_jobs(listener.base), **harmless_jobs()}
    results = office.convert(list(jobs.values()), timeout=TIMEOUT)
    return dict(zip(jobs, results, strict=True))


@pytest.fixture(scope="module")
def profile_after_run(converted: dict[str, bytes | ConversionFailed]) -> str:
    """registrymodifications.xcu as LibreOffice left it, read before a later test
    can discard the profile."""
    assert office._PROFILE is not None
    return (office._PROFILE / "user" / "registrymodifications.xcu").read_text(encoding="utf-8")


# -- the sandbox ----------------------------------------------------------------------


def test_probe_finds_a_namespace_and_rejects_none() -> None:
    assert office._sandbox() is not None
    # The probe's checker is not fooled by a prefix that isolates nothing.
    assert office._probe(()) is False


def test_hostile_documents_convert_without_a_single_request(
    listener: Listener, converted: dict[str, bytes | ConversionFailed]
) -> None:
    # Converted bytes prove soffice really ran (a refusal would also make no requests).
    failed = {name: str(r) for name, r in converted.items() if not isinstance(r, bytes)}
    assert failed == {}
    assert listener.requests == []
    assert listener.connections == 0


def test_hostile_documents_keep_their_own_text(
    converted: dict[str, bytes | ConversionFailed],
) -> None:
    texts = {
        name: read_docx(data).text
        for name, data in converted.items()
        if isinstance(data, bytes) and name != "linked_sheet"
    }
    assert "linked image" in texts["linked_image"]
    assert "linked section" in texts["linked_section_and_ole"]
    assert "rtf fields" in texts["fields_and_template"]
    assert "html page" in texts["html_saved_as_doc"]
    sheet = converted["linked_sheet"]
    assert isinstance(sheet, bytes) and zipfile.is_zipfile(io.BytesIO(sheet))


def test_harmless_documents_still_convert_to_readable_docx(
    converted: dict[str, bytes | ConversionFailed],
) -> None:
    rtf, odt = converted["harmless_rtf"], converted["harmless_odt"]
    assert isinstance(rtf, bytes) and isinstance(odt, bytes)
    assert HARMLESS_RTF in read_docx(rtf).text
    assert HARMLESS_ODT in read_docx(odt).text


def test_profile_keeps_the_hardening_settings(profile_after_run: str) -> None:
    # LibreOffice rewrites the file on exit; the entries must survive that.
    assert "FirstRun" in profile_after_run  # the file really is LibreOffice's rewrite
    for path, name, value in office._SETTINGS:
        entry = (
            f'<item oor:path="/{path}"><prop oor:name="{name}" oor:op="fuse">'
            f"<value>{value}</value></prop></item>"
        )
        assert entry in profile_after_run


def test_listener_does_count_requests() -> None:
    """The control: the same listener sees a plain client's OPTIONS and GET."""
    with Listener() as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        for method in ("OPTIONS", "GET"):
            request = urllib.request.Request(server.base + "/x", method=method)
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(request, timeout=5)
        server.shutdown()
    assert server.requests == ["OPTIONS /x", "GET /x"]


def test_no_sandbox_means_no_conversion(
    monkeypatch: pytest.MonkeyPatch, listener: Listener
) -> None:
    monkeypatch.setattr(office, "_sandbox", lambda: None)
    results = office.convert(list(hostile_jobs(listener.base).values()), timeout=TIMEOUT)
    assert all(isinstance(r, ConversionFailed) and "断网" in str(r) for r in results)
    assert listener.connections == 0


# -- resource limits ------------------------------------------------------------------


def _big_rtf() -> bytes:
    paragraphs = "".join(f"paragraph {i} with a few words in it\\par " for i in range(200_000))
    return ("{\\rtf1\\ansi " + paragraphs + "}").encode()


def test_memory_limit_is_a_plain_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office, "MEMORY_LIMIT_BYTES", 64 * office.MiB)
    jobs = list(harmless_jobs().values())
    results = office.convert(jobs, timeout=TIMEOUT)
    assert [type(r) for r in results] == [ConversionFailed] * len(jobs)
    assert all("内存" in str(r) for r in results)


def test_cpu_limit_is_a_plain_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office, "CPU_LIMIT_SECONDS", 1)
    [result] = office.convert([office.Job(_big_rtf(), "rtf", "docx")], timeout=TIMEOUT)
    assert isinstance(result, ConversionFailed) and "CPU" in str(result)


def _live_processes_using(profile: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = re.search(rb"\) (\w)", (entry / "stat").read_bytes())
        except OSError:
            continue
        if str(profile).encode() in cmdline and state and state.group(1) != b"Z":
            found.append(int(entry.name))
    return found


def test_timeout_kills_the_whole_process_group() -> None:
    profile = office._profile()
    [result] = office.convert([office.Job(_big_rtf(), "rtf", "docx")], timeout=0.5)
    assert isinstance(result, ConversionFailed) and "0.5 秒" in str(result)
    assert _live_processes_using(profile) == [], "soffice.bin survived the timeout"
    # A killed run may leave a half-written profile behind, so the next one starts afresh.
    assert office._PROFILE != profile and not profile.exists()
    [after] = office.convert(list(harmless_jobs().values())[:1], timeout=TIMEOUT)
    assert isinstance(after, bytes) and HARMLESS_RTF in read_docx(after).text
