"""OCR that runs out of memory: read again smaller, else a scan for staff — never "cannot open".

A worker's memory is ours to size, not the sender's fault: a page whose OCR fails for
want of memory (onnxruntime's ``std::bad_alloc``, numpy's or Python's MemoryError) is
read once more at a smaller size, and when that fails too the document stays a readable
scan that OCR could not read (OCR_USED, for staff), never UNREADABLE_DOCUMENT, and an
application whose only form it is still becomes one.
"""

from __future__ import annotations

import io
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support.precision import UNIT, form_lines, scan, sealed_page
from support.records import T0, application_mail, form

from intake.documents import ocr
from intake.understand import understand
from tracker.config import load_settings

POLICY = load_settings(Path(__file__).resolve().parents[1] / "support" / "samples-config.yaml").round_policy()


def _bad_alloc(*_args: object, **_kwargs: object) -> str:
    """What onnxruntime inside RapidOCR raises when an allocation fails."""
    from onnxruntime.capi.onnxruntime_pybind11_state import RuntimeException
    from rapidocr_onnxruntime.utils.infer_engine import ONNXRuntimeError

    try:
        raise RuntimeException(
            "[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status code returned while "
            "running Add node. Name:'p2o.Add.46' Status Message: std::bad_alloc"
        )
    except RuntimeException as exc:
        raise ONNXRuntimeError(traceback.format_exc()) from exc


def _numpy_short(*_args: object, **_kwargs: object) -> str:
    np.empty(1 << 62, dtype=np.uint8)  # numpy's MemoryError ("Unable to allocate …")
    return ""


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def _page() -> Image.Image:
    return sealed_page(form_lines(), seal=UNIT)


def test_an_allocation_failure_is_told_from_a_broken_input():
    for fail in (_bad_alloc, _numpy_short):
        with pytest.raises(Exception) as caught:
            fail()
        assert ocr.out_of_memory(caught.value), fail.__name__
    assert ocr.out_of_memory(MemoryError())
    opencv = Exception("OpenCV(4.11.0) error: (-4:Insufficient memory) Failed to allocate 36000000 bytes")
    assert ocr.out_of_memory(opencv)
    assert not ocr.out_of_memory(ValueError("img is None"))
    assert not ocr.out_of_memory(RuntimeError("[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Got invalid dimensions"))


def test_a_page_that_ran_out_of_memory_is_read_again_smaller(monkeypatch):
    calls: list[tuple[int, int | None]] = []

    def short_once(image: Image.Image, side: int, detect_side: int | None) -> str:
        calls.append((side, detect_side))
        if len(calls) == 1:
            _bad_alloc()
        return "揭榜单位：山东云图数据科技有限公司"

    monkeypatch.setattr(ocr, "_read", short_once)
    assert ocr.ocr_image(_page(), detect_side=1170) == "揭榜单位：山东云图数据科技有限公司"
    # the first time as always; then at 2/3 of what the engine would look at (2000 px)
    assert calls == [(ocr.MAX_SIDE, 1170), (1333, 780)]


def test_a_page_that_never_finds_the_memory_is_unavailable_and_other_errors_still_raise(monkeypatch):
    monkeypatch.setattr(ocr, "_read", _bad_alloc)
    with pytest.raises(ocr.OcrUnavailable):
        ocr.ocr_image(_page())

    def broken(*_args: object) -> str:
        raise ValueError("not an image")

    monkeypatch.setattr(ocr, "_read", broken)
    with pytest.raises(ValueError):
        ocr.ocr_image(_page())


MAILS: dict[str, Callable[[], list[tuple[str, bytes]]]] = {
    "scanned PDF, the only form": lambda: [("申报书（盖章）.pdf", scan([form_lines()], seal=UNIT))],
    "scanner-named PDF": lambda: [("扫描全能王 2025-01-10 09.31.pdf", scan([form_lines(), ["附件"]]))],
    "photo named as the form": lambda: [("申报书.jpg", _jpeg(_page()))],
    "phone photo, the only file": lambda: [("IMG_20250110_093112.jpg", _jpeg(_page().resize((3000, 4000))))],
}


@pytest.mark.parametrize("failure", [_bad_alloc, _numpy_short], ids=["bad_alloc", "MemoryError"])
@pytest.mark.parametrize("mail", sorted(MAILS))
def test_a_scan_ocr_had_no_memory_for_goes_to_staff_and_is_recorded(monkeypatch, mail, failure):
    monkeypatch.setattr(ocr, "_read", failure)
    result = understand(application_mail(attachments=MAILS[mail]()), POLICY, received_at=T0)

    codes = [d.code for d in result.deficiencies]
    assert "UNREADABLE_DOCUMENT" not in codes, result.deficiencies
    assert "MISSING_APPLICATION_FORM" not in codes, result.deficiencies
    assert "OCR_USED" in codes
    (document,) = result.documents
    assert document.readable and document.scanned and document.role == "application_form"
    assert len(result.applications) == 1  # on record, for staff to complete from the scan


def test_a_licence_photo_ocr_had_no_memory_for_beside_a_word_form_is_no_complaint(monkeypatch):
    monkeypatch.setattr(ocr, "_read", _bad_alloc)
    raw = application_mail(attachments=[
        ("申报书.docx", form(unit=UNIT, code17="91370102MA3C4D5E6")),
        ("营业执照.jpg", _jpeg(sealed_page(["营业执照", f"名称 {UNIT}"]))),
    ])
    result = understand(raw, POLICY, received_at=T0)

    assert "UNREADABLE_DOCUMENT" not in [d.code for d in result.deficiencies], result.deficiencies
    assert all(d.readable for d in result.documents)
    assert [a.unit for a in result.applications] == [UNIT]


def test_detection_scales_a_strip_up_only_so_far_and_a_photo_as_before():
    """RapidOCR scales a picture's shorter side up to 736 px: a 1600×200 signature strip
    was detected at 5888×736 (4.3 MP, ~900 MB); it stops at ``DETECT_PIXELS``."""
    from types import SimpleNamespace

    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    class Detector:  # RapidOCR 1.4's TextDetector, as far as _detect_at uses it
        mean = std = [0.5, 0.5, 0.5]

        def get_preprocess(self, max_wh: int) -> DetPreProcess:
            return DetPreProcess(736, "min", self.mean, self.std)

    engine = SimpleNamespace(text_det=Detector())
    ocr._detect_at(engine, None)

    def detected(height: int, width: int) -> tuple[int, ...]:
        image = np.zeros((height, width, 3), np.uint8)
        return tuple(engine.text_det.get_preprocess(max(height, width))(image).shape)

    _, _, height, width = detected(200, 1600)
    assert height * width <= ocr.DETECT_PIXELS * 1.05 and width > 1600  # still scaled up
    assert detected(2000, 1500) == DetPreProcess(736, "min")(np.zeros((2000, 1500, 3), np.uint8)).shape
    assert detected(2000, 2000) == (1, 3, 1984, 1984)  # a square photo, as RapidOCR has it (32s)
    assert detected(200, 800) == DetPreProcess(736, "min")(np.zeros((200, 800, 3), np.uint8)).shape
