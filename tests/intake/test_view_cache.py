"""Each document's view is built once while it lives, however many readers ask for it."""

from __future__ import annotations

import gc

import pytest
from support.formfactory import FormSpec, make_docx, make_eml

from campaign import CityBureau, RoundPolicy
from intake.extract import pairs
from intake.extract.fields import read_form
from intake.extract.pairs import read_view, view_of
from intake.model import Document
from intake.understand import understand

POLICY = RoundPolicy(
    cities={"济南市": CityBureau("济南市", ("jinan-dsj@dsj.jinan.example",))},
    own_addresses=frozenset({"dsjjzcghc@shandong.cn"}),
)
TEXT = "单位名称：山东示例数据科技有限公司\n统一社会信用代码：91370102MA3C4D5E6M\n所在市：济南市"


def _doc(text: str = TEXT) -> Document:
    return Document(name="申报书.pdf", format="pdf", text=text)


def test_one_view_for_every_reader_of_a_short_document() -> None:
    doc = _doc()
    view = view_of(doc)
    assert view_of(doc, 20_000) is view and view_of(doc, 60_000) is view
    assert view == read_view(doc.text, doc.tables)


def test_a_prefix_of_a_long_document_has_its_own_view() -> None:
    doc = _doc(TEXT + "\n" + "正文" * 20_000)
    assert view_of(doc, 20_000) is not view_of(doc)
    assert view_of(doc, 20_000) == read_view(doc.text[:20_000], doc.tables)


def test_new_text_gets_a_new_view() -> None:
    doc = _doc()
    before = view_of(doc)
    doc.text = TEXT.replace("济南市", "青岛市")
    assert view_of(doc) is not before
    assert "青岛市" in view_of(doc).values("city")


def test_reading_a_form_leaves_the_shared_view_as_it_was() -> None:
    doc = Document(
        name="申报书.docx",
        format="docx",
        text="单位名称 所在市\n山东示例数据科技有限公司 济南市",
        tables=[[["单位名称", "所在市", "联系人"], ["山东示例数据科技有限公司", "济南市", "张三"]]],
    )
    shared = view_of(doc)
    pairs_before = list(shared.pairs)
    read_form(doc)  # reads the one-row table as pairs, into a copy of the list
    assert shared.pairs == pairs_before


def test_views_go_with_their_document() -> None:
    doc = _doc()
    view_of(doc)
    key = id(doc)
    assert key in pairs._VIEWS
    del doc
    gc.collect()
    assert key not in pairs._VIEWS


def test_understand_builds_one_view_per_document(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []
    original = pairs.read_view

    def counting(text: str, tables: list[list[list[str]]]) -> pairs.FormView:
        built.append(len(text))
        return original(text, tables)

    monkeypatch.setattr(pairs, "read_view", counting)
    raw = make_eml(attachments=[("申报书.docx", make_docx(FormSpec()))])
    result = understand(raw, POLICY)
    assert [d.role for d in result.documents] == ["application_form"]
    assert len(built) == 1  # classification (twice) and the form reader share it
