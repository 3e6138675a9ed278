"""One table-driven test per SPEC §3 per-message code, on factory-built forms and packages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from support.formfactory import FormSpec, form_document, make_uscc, pdf_text_document, variant

from campaign import Catalogue, CityBureau, RoundPolicy
from intake.checks import RULES, Facts, run_checks
from intake.classify import classify_documents
from intake.extract.fields import read_form
from intake.extract.merge import merge_readings
from intake.extract.table import RecommendationTable, TableRow
from intake.model import Document, Recommendation

CST = timezone(timedelta(hours=8))
POLICY = RoundPolicy(
    catalogue=Catalogue(deadlines={
        "direct": date(2025, 1, 20),
        "city_applicant": date(2025, 1, 15),
        "city_bureau": date(2025, 1, 20),
    }),
    cities={
        "济南市": CityBureau("济南市", ("jinan@dsj.example",), "孟晓林", "0531-94710893"),
        "潍坊市": CityBureau("潍坊市", ("weifang@dsj.example",), "郎雪梅", "0536-9999249"),
    },
)
GOOD = FormSpec(
    unit="山东省泉城数据研究院",
    uscc=make_uscc("370000", "12"),
    nature="省属事业单位",
    direction=2,
    task_types=["theory", "technology"],
    outcomes=["研究报告", "创新成果"],
)
ON_TIME = datetime(2025, 1, 10, 9, 0, tzinfo=CST)


def direct(
    *specs: FormSpec,
    received: datetime = ON_TIME,
    policy: RoundPolicy = POLICY,
    extra: list[Document] = (),
) -> Facts:
    docs = [form_document(s, f"{i}-{s.unit}-申报书.docx") for i, s in enumerate(specs)] + list(
        extra
    )
    classify_documents(docs)
    forms = merge_readings(
        [read_form(d) for d in docs if d.role == "application_form" and d.readable]
    )
    return Facts(
        policy=policy,
        intent="submission",
        channel="direct",
        received_at=received,
        documents=docs,
        forms=forms,
    )


def package(
    specs: list[FormSpec],
    *,
    word: bool = True,
    pdf: bool = True,
    rows: list[FormSpec] | None = None,
    table: bool = True,
    sender_city: str | None = "济南市",
    city: str = "济南市",
) -> Facts:
    docs: list[Document] = []
    for s in specs:
        if word:
            docs.append(form_document(s, f"{s.unit}申报书.docx"))
        if pdf:
            docs.append(pdf_text_document(s, f"{s.unit}申报书.pdf"))
    if table:
        docs.append(Document(name="推荐汇总表.xlsx", format="xlsx", role="recommendation_table"))
    classify_documents(docs)
    forms = merge_readings([read_form(d) for d in docs if d.role == "application_form"])
    rec = (
        RecommendationTable(
            rows=[
                TableRow(Recommendation(rank=i + 1, direction=s.direction, unit=s.unit))
                for i, s in enumerate(rows if rows is not None else specs)
            ],
            city=city,
        )
        if table
        else None
    )
    return Facts(
        policy=POLICY,
        intent="submission",
        channel="via_city",
        city=city,
        sender_city=sender_city,
        received_at=ON_TIME,
        documents=docs,
        forms=forms,
        table=rec,
    )


def codes(facts: Facts) -> set[str]:
    return {d.code for d in run_checks(facts).deficiencies}


def test_clean_direct_submission_has_no_deficiency() -> None:
    assert codes(direct(GOOD)) == set()


def test_clean_package_has_no_deficiency() -> None:
    a = variant(GOOD, unit="济南甲数据科技有限公司", uscc=make_uscc("370102"), nature="民营企业")
    b = variant(GOOD, unit="济南乙信息技术有限公司", uscc=make_uscc("370103"), nature="民营企业")
    assert codes(package([a, b])) == set()


CASES = {
    # (a task name without scope words: "数据产品质量评价…" says direction 二)
    "DIRECTION_MISSING": lambda: direct(variant(GOOD, direction=None, task_name="数据要素综合服务平台建设")),
    "MULTIPLE_DIRECTIONS": lambda: direct(variant(GOOD, direction=[2, 6], direction_style="ticks")),
    "TASK_TYPE_MISSING": lambda: direct(variant(GOOD, task_types=[])),
    "OUTCOME_MISSING": lambda: direct(
        variant(GOOD, task_types=["application"], outcomes=["研究报告"])
    ),
    "CONSORTIUM_TOO_LARGE": lambda: direct(
        variant(GOOD, partners=["甲数据有限公司", "乙大学", "丙研究院"])
    ),
    "NOT_IN_SHANDONG": lambda: direct(
        variant(GOOD, uscc=make_uscc("310115"), nature="中央驻鲁企业")
    ),
    "USCC_INVALID": lambda: direct(variant(GOOD, uscc="91370102MA3C4D5E6X")),
    "WRONG_CHANNEL": lambda: direct(
        variant(GOOD, unit="潍坊某某信息技术有限公司", uscc=make_uscc("370784"), nature="民营企业")
    ),
    "LATE": lambda: direct(GOOD, received=datetime(2025, 1, 21, 0, 0, 1, tzinfo=CST)),
    # one lead unit's two forms in two directions, in one mail (across mails: the tracker)
    "DUPLICATE_LEAD": lambda: direct(GOOD, variant(GOOD, direction=6, task_name="数据流通利用关键技术研发")),
    "UNKNOWN_UNIT_NATURE": lambda: direct(
        variant(GOOD, unit="某某数据科技有限公司", uscc=make_uscc("370102"), nature_style="none")
    ),
    "OCR_USED": lambda: direct(extra=[pdf_text_document(GOOD, "申报书扫描件.pdf", scanned=True)]),
    "MISSING_APPLICATION_FORM": lambda: direct(
        extra=[Document(name="营业执照.jpg", format="image", text="")]
    ),
    "UNREADABLE_DOCUMENT": lambda: direct(
        GOOD, extra=[Document(name="附件2.docx", format="docx", readable=False, error="文件已损坏")]
    ),
    "NO_ATTACHMENT": lambda: Facts(
        policy=POLICY, intent="submission", channel="direct", received_at=ON_TIME
    ),
    "CLOUD_ATTACHMENT": lambda: Facts(
        policy=POLICY,
        intent="submission",
        channel="direct",
        received_at=ON_TIME,
        cloud=["https://wx.mail.qq.com/ftn/download?func=3&k=abc"],
    ),
    "MISSING_RECOMMENDATION_TABLE": lambda: package(
        [variant(GOOD, nature="民营企业")], table=False
    ),
    "MISSING_WORD_VERSION": lambda: package([variant(GOOD, nature="民营企业")], word=False),
    "MISSING_PDF_VERSION": lambda: package([variant(GOOD, nature="民营企业")], pdf=False),
    "TABLE_MISMATCH": lambda: package(
        [variant(GOOD, nature="民营企业")], rows=[variant(GOOD, unit="未报送申报书的科技有限公司")]
    ),
    "CITY_QUOTA_EXCEEDED": lambda: package(
        [
            variant(
                GOOD,
                unit=f"济南{c}数据科技有限公司",
                uscc=make_uscc("370102", body=f"MA3C4D5E{i}"),
                nature="民营企业",
            )
            for i, c in enumerate("甲乙丙")
        ]
    ),
    "UNVERIFIED_CITY_SENDER": lambda: package([variant(GOOD, nature="民营企业")], sender_city=None),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_code_is_reported_alone(code: str) -> None:
    facts = CASES[code]()
    found = run_checks(facts).deficiencies
    assert {d.code for d in found} == {code}
    rule = next(r for r in RULES if r.code.code == code)
    assert all(d.severity == rule.code.severity and d.message for d in found)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in d.message) for d in found)  # plain Chinese


def test_every_per_message_code_has_a_case() -> None:
    assert {r.code.code for r in RULES} == set(CASES)


def test_wrong_channel_names_the_city_bureau_and_contact() -> None:
    [d] = run_checks(CASES["WRONG_CHANNEL"]()).deficiencies
    assert "潍坊市大数据局" in d.message and "郎雪梅" in d.message and "0536-9999249" in d.message


def test_deadline_day_is_inclusive_in_shanghai() -> None:
    assert "LATE" not in codes(direct(GOOD, received=datetime(2025, 1, 20, 23, 59, 59, tzinfo=CST)))
    # 16:30 UTC on the 20th is already 00:30 on the 21st in Shanghai
    assert "LATE" in codes(direct(GOOD, received=datetime(2025, 1, 20, 16, 30, tzinfo=UTC)))


def test_city_role_uses_applicant_deadline_and_never_wrong_channel() -> None:
    city_policy = RoundPolicy(catalogue=POLICY.catalogue, cities=POLICY.cities, role="city", city="潍坊市")
    spec = CASES["WRONG_CHANNEL"]
    facts = spec()
    facts.policy = city_policy
    assert codes(facts) == set()
    facts.received_at = datetime(2025, 1, 16, 8, 0, tzinfo=CST)
    assert codes(facts) == {"LATE"}


def test_via_city_package_is_late_only_after_city_deadline() -> None:
    facts = package([variant(GOOD, nature="民营企业")])
    facts.received_at = datetime(2025, 1, 18, 8, 0, tzinfo=CST)
    assert codes(facts) == set()
    facts.received_at = datetime(2025, 1, 21, 8, 0, tzinfo=CST)
    assert codes(facts) == {"LATE"}


def test_other_intents_have_no_deficiencies() -> None:
    facts = CASES["NO_ATTACHMENT"]()
    facts.intent = "status_query"
    assert run_checks(facts).deficiencies == []


def test_partners_outside_shandong_are_fine() -> None:
    assert (
        codes(direct(variant(GOOD, partners=["上海某某智能科技有限公司", "北京某某大学"]))) == set()
    )


def test_national_registration_is_not_outside_shandong() -> None:
    assert (
        codes(direct(variant(GOOD, uscc=make_uscc("100000", "12"), nature="中央驻鲁单位"))) == set()
    )
