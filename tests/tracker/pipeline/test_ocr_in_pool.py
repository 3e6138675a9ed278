"""OCR inside the worker pool reads what ``inspect`` reads, under the shipped limits.

Scanned forms — a multi-page image-only PDF, photos of a form page (JPEG, PNG), a
4000×3000 phone picture, a mail of a scan with a licence photo and a signature — go
through a real :class:`WorkerPool` whose limits come from the configuration's defaults,
one worker reading them all in turn (what one OCR page leaves behind meets the next),
and are compared with the same mails understood in this process, as ``jiebang
inspect`` does. Once, OCR in a worker failed with onnxruntime's ``std::bad_alloc``
and the scans came back as UNREADABLE_DOCUMENT.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image
from support.precision import form_lines, sealed_page
from support.records import T0, application_mail, make_app

from examples.generate import uscc
from intake.understand import understand
from tracker.config import Processing
from tracker.pipeline.workers import Task, Understood, WorkerPool

FORMS = {  # mail -> (unit, credit code, direction) its form states
    "scan_pages": ("山东青禾数据科技有限公司", uscc("91370102MA3C4D5E6"), 2),
    "photo_jpeg": ("山东泰岳信息技术有限公司", uscc("91370900MA3D1E2F3"), 8),
    "photo_png": ("山东海岱数智科技有限公司", uscc("91370200MA3E4F5G6"), 4),
    "phone_photo": ("山东济水数据服务有限公司", uscc("91370100MA3F7G8H9"), 2),
    "with_photos": ("山东鲁信数据科技有限公司", uscc("91370103MA3G1H2J3"), 8),
}


def _page(mail: str) -> Image.Image:
    unit, code, direction = FORMS[mail]
    # sealed at the foot of the page, away from the fields the test compares
    return sealed_page(form_lines(unit, code, direction), seal=unit, seal_at=9)


def _pdf(pages: list[Image.Image]) -> bytes:
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=200, save_all=True, append_images=pages[1:])
    return out.getvalue()


def _encoded(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, kind, **({"quality": 90} if kind == "JPEG" else {}))
    return out.getvalue()


def _phone_photo(page: Image.Image) -> Image.Image:
    """A 4000×3000 picture of the page lying on a desk."""
    photo = Image.new("RGB", (4000, 3000), (120, 110, 100))
    fitted = page.resize((round(2900 * page.width / page.height), 2900))
    photo.paste(fitted, ((4000 - fitted.width) // 2, 50))
    return photo


def _mails() -> dict[str, bytes]:
    unit = FORMS["scan_pages"][0]
    cover = sealed_page(["揭榜挂帅项目申报书", f"揭榜单位（盖章）：{unit}", "2025年1月"])
    notes = sealed_page(["填报说明", "一、请如实填写。", "二、加盖单位公章。"])
    plan = sealed_page(["三、实施方案", "（一）研究内容"])
    licence = sealed_page(["营业执照", f"名称 {FORMS['with_photos'][0]}", "类型 有限责任公司"])
    signature = sealed_page(["法定代表人签字：张明"]).crop((0, 100, 1654, 500)).resize((800, 200))
    return {
        "scan_pages": application_mail(attachments=[
            ("申报书（盖章扫描件）.pdf", _pdf([cover, notes, _page("scan_pages"), plan]))]),
        "photo_jpeg": application_mail(attachments=[("申报书.jpg", _encoded(_page("photo_jpeg"), "JPEG"))]),
        "photo_png": application_mail(attachments=[("申报书（盖章）.png", _encoded(_page("photo_png"), "PNG"))]),
        "phone_photo": application_mail(attachments=[
            ("IMG_20250110_093112.jpg", _encoded(_phone_photo(_page("phone_photo")), "JPEG"))]),
        "with_photos": application_mail(attachments=[
            ("申报书（盖章）.pdf", _pdf([_page("with_photos")])),
            ("营业执照.jpg", _encoded(_phone_photo(licence), "JPEG")),
            ("签名.png", _encoded(signature, "PNG")),
        ]),
    }


# slow: eleven pages and photos through OCR twice (~30 s). By default: a scan read by OCR
# in a worker under the shipped limits, test_workers.py; photos, tests/intake's OCR tests.
@pytest.mark.slow
def test_scanned_forms_read_in_the_pool_under_the_shipped_limits_as_inspect_reads_them(tmp_path):
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'jiebang.sqlite'}")
    mails = _mails()
    tasks = []
    for pk, (name, raw) in enumerate(mails.items(), 1):
        blob = tmp_path / f"{name}.eml"
        blob.write_bytes(raw)
        tasks.append(Task(pk, blob, T0))
    names = {task.pk: name for task, name in zip(tasks, mails, strict=True)}

    pool = app.understander(workers=1)  # the configured limits, none set: the shipped ones
    assert isinstance(pool, WorkerPool)
    shipped = Processing()
    assert (pool.limits.memory_mb, pool.limits.cpu_seconds, pool.limits.ocr_threads) == (
        shipped.worker_memory_mb, shipped.worker_cpu_seconds, shipped.ocr_threads)
    with pool:
        outcomes = {names[task.pk]: outcome for task, outcome in pool.run(tasks)}
        assert pool.stats.died == 0, pool.stats.causes

    for name, raw in mails.items():
        outcome = outcomes[name]
        assert isinstance(outcome, Understood), (name, outcome)
        in_pool = outcome.result
        here = understand(raw, app.policy, received_at=T0)  # what `jiebang inspect` does

        codes = [d.code for d in in_pool.deficiencies]
        assert "UNREADABLE_DOCUMENT" not in codes, (name, in_pool.deficiencies)
        assert "OCR_USED" in codes, name
        assert all(d.readable and d.scanned for d in in_pool.documents), (name, in_pool.documents)
        # every page OCR read in the worker gave the text it gives here (none read smaller)
        assert [d.text for d in in_pool.documents] == [d.text for d in here.documents], name
        assert all(d.text for d in in_pool.documents), name
        # field by field, then everything `inspect --json` shows
        unit, code, direction = FORMS[name]
        fields = [(a.unit, a.uscc, a.direction) for a in in_pool.applications]
        assert fields == [(a.unit, a.uscc, a.direction) for a in here.applications], name
        assert [(a.uscc, a.direction) for a in in_pool.applications] == [(code, direction)], (name, fields)
        assert in_pool.contract() == here.contract(), name


def test_the_pool_is_sized_from_the_configuration_defaults():
    """The shipped figures are one: the pool's own default and the configuration's."""
    from tracker.pipeline.workers import WorkerLimits

    shipped = Processing()
    assert WorkerLimits().memory_mb == shipped.worker_memory_mb
    assert WorkerLimits().cpu_seconds == shipped.worker_cpu_seconds
