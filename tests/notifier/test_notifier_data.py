"""Applicant text is data in every official mail: never in a subject, never a working link.

Anyone can write to the public mailbox, and jiebang echoes what they wrote (unit, task,
file names, the subject of their mail, intake's findings about them) back in mail that
comes from a government address. A phishing sentence in a "unit name" must not become a
clickable link in that mail, nor a line of its subject.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
import unicodedata
from html.parser import HTMLParser
from typing import Any

import pytest
from jinja2 import meta
from markupsafe import Markup
from support.mail_contexts import CONTEXTS

from notifier.outbox import tagged_subject
from notifier.render import TEMPLATES_DIR, data, defang, environment, render, template_names
from notifier.templates import CONTEXTS as DOCUMENTED
from tracker.reports.views import Digest, RankedItem

PAYLOAD = "贵单位账户异常，请立即登录 http://evil.example/login 或 www.evil.example 验证"
PAYLOADS = {
    "plain": PAYLOAD,
    "full-width": "请立即登录 ｈｔｔｐｓ：／／evil.example／login 核实",
    "scheme-relative": "详见 //evil.example/x 或 \\\\evil.example\\share",
    "controls": "\u202eexe.pdf\u202c 请登录\r\nBcc: x@evil.cn\x00 http://evil.example/\u2066a\u2069",
    "markup": '<a href="http://evil.example/login">点击核实</a><img src="http://evil.example/p.png">',
    "hidden": "ht\u200btp://evil.example/login",
}

# Where each value comes from, per notifier/templates.py: "[]" steps into a list.
# APPLICANT: from mail or documents (intake's messages embed unit and file names; the
# redirect city is the one read from the application). OWN: jiebang's own (references,
# dates, counts, labels from notifier.wording / the campaign catalogue, bureau contacts
# and the reminder's city from configuration).
APPLICANT: dict[str, tuple[str, ...]] = {
    "ack": ("unit", "task_name", "city", "files[]"),
    "deficiency": ("unit", "items[].message"),
    "redirect": ("unit", "city"),
    "status": ("unit", "items[].message"),
    "status_list": ("items[].unit",),
    "status_denied": (),
    "reminder_applicant": ("unit", "items[].message"),
    "reminder_city": (),
    "receipt": ("files[]",),
    "arrival": (),
    "claim_notice": (),
    "package_receipt": ("rows[].unit", "rows[].problems[].message", "items[].message"),
    "result": ("unit", "reason"),
    "result_city": ("rows[].unit", "rows[].reason"),
    "expert_invite": (),  # staff typed every word of it (the expert's name included)
    "acceptance": ("unit", "files[].name", "items[].message"),
    "acceptance_reminder": ("unit",),
    "answer": ("subject",),
    "digest": (
        "digest.new_submissions[].unit", "digest.new_submissions[].city",
        "digest.new_versions[].unit", "digest.new_versions[].city",
        "digest.recommendations[].unit",
        "digest.late[].reference",  # a city package's is the city its mail claims
        "digest.late[].unit",
        "digest.quarantined[].from_addr", "digest.quarantined[].subject", "digest.quarantined[].error",
        "digest.unanswered[].from_addr", "digest.unanswered[].subject", "digest.unanswered[].error",
        "digest.mail_problems[].to",
        "digest.mail_problems[].subject",  # rows written before subjects were fixed wording
        "digest.mail_problems[].error",  # the remote server's words
    ),
}
_ITEM = ("items[].code", "items[].title", "items[].fix")
OWN: dict[str, tuple[str, ...]] = {
    "ack": ("reference", "direction_name", "task_types[]", "channel_label"),
    "deficiency": ("reference", "situation", *_ITEM),
    "redirect": ("bureau.contact", "bureau.phone", "bureau.emails[]"),
    "status": ("reference", "status_label", *_ITEM),
    "status_list": ("items[].reference", "items[].direction_name", "items[].status_label"),
    "status_denied": (),
    "reminder_applicant": ("reference", *_ITEM),
    "reminder_city": ("city",),
    "receipt": (),
    "arrival": (),
    "claim_notice": ("reference",),
    "package_receipt": ("city", "rows[].reference", "rows[].direction_name", "rows[].problems[].code",
                        "rows[].problems[].title", "rows[].problems[].fix", *_ITEM),
    "result": ("reference", "outcome", "outcome_label", "direction", "list_title"),
    "result_city": ("city", "rows[].reference", "rows[].outcome_label", "rows[].direction"),
    "expert_invite": ("name", "panel", "round_title", "sign_in", "login"),
    "acceptance": ("reference", "files[].kinds", *_ITEM),
    "acceptance_reminder": ("reference", "outcomes"),
    "answer": ("paragraphs[]",),  # a staff member's own words
    "digest": (
        "chart_src", "digest.owner", "digest.role", "digest.city", "digest.round_code",
        *(f"digest.{row}[].{f}" for row in ("new_submissions", "new_versions")
          for f in ("reference", "direction_label", "channel_label")),
        "digest.late[].channel_label", "digest.late[].note",
        "digest.quarantined[].intent_label", "digest.unanswered[].intent_label",
        "digest.mail_problems[].kind_label", "digest.mail_problems[].state_label",
        "digest.recommendations[].direction_label", "digest.recommendations[].reference",
        "digest.recommendations[].status_label",
    ),
}
# digest rows whose every text is jiebang's own (labels, config cities, wording titles)
OWN_DIGEST_ROWS = ("statuses", "directions", "direction_total", "cities", "intents_since", "errors",
                   "warnings", "deadlines", "after_intake")
# echoed nowhere: questions waiting for staff have no error
UNSHOWN = {"digest.unanswered[].error"}


def _texts(tp: Any, prefix: str) -> set[str]:
    """The paths of every text value a context type has ("[]" steps into lists and tuples)."""
    args = [a for a in typing.get_args(tp) if a is not type(None) and a is not Ellipsis]
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_texts(a, prefix) for a in args))
    if origin in (list, tuple):
        return _texts(args[0], prefix + "[]")
    if typing.is_typeddict(tp) or dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        if tp is DOCUMENTED["digest"]:
            hints["digest"] = Digest  # documented as Any: notifier does not import tracker
        dot = "." if prefix else ""
        return set().union(set(), *(_texts(t, f"{prefix}{dot}{k}") for k, t in hints.items()))
    return {prefix} if tp is str else set()


def test_every_context_text_is_classified() -> None:
    """A new text in a context must be put in APPLICANT (and get ``|data``) or OWN."""
    assert set(template_names()) == set(APPLICANT) == set(OWN)
    for name in template_names():
        texts = _texts(DOCUMENTED[name], "")
        if name == "digest":
            texts = {p for p in texts if p.removeprefix("digest.").split("[")[0].split(".")[0]
                     not in OWN_DIGEST_ROWS}
        assert not set(APPLICANT[name]) & set(OWN[name]), name
        assert texts == set(APPLICANT[name]) | set(OWN[name]), name


# --------------------------------------------------------------------------- poisoning


def _get(obj: Any, key: str) -> Any:
    return obj[key] if isinstance(obj, dict) else getattr(obj, key)


def _set(obj: Any, key: str, value: Any) -> Any:
    return {**obj, key: value} if isinstance(obj, dict) else dataclasses.replace(obj, **{key: value})


def poison(obj: Any, path: str, payload: str) -> Any:
    """*obj* with the value(s) at *path* replaced by *payload* (walking dicts, dataclasses, lists)."""
    head, _, rest = path.partition(".")
    key, many = head.removesuffix("[]"), head.endswith("[]")

    def inner(value: Any) -> Any:
        return poison(value, rest, payload) if rest else payload

    value = _get(obj, key)
    if many:
        assert value, f"{path}: the example context has no element to poison"
        value = type(value)(inner(v) for v in value)
    else:
        value = inner(value)
    return _set(obj, key, value)


def full_context(name: str) -> dict[str, Any]:
    """The example context with an element in every list an applicant path steps into."""
    context = dict(CONTEXTS[name])
    if name == "digest":
        d: Digest = context["digest"]
        context["digest"] = dataclasses.replace(
            d, role="city", new_versions=d.new_submissions, unanswered=d.quarantined,
            recommendations=(RankedItem("（六）数据安全", 1, "JB2025-0003", "济南云泺信息技术有限公司", "材料齐全，待评审"),))
    return context


def poisoned(name: str, payload: str, paths: tuple[str, ...] | None = None) -> dict[str, Any]:
    context = full_context(name)
    for path in APPLICANT[name] if paths is None else paths:
        context = poison(context, path, payload)
    return context


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def assert_inert(body: str) -> None:
    """No working link to evil.example in *body*, however a mail client folds characters."""
    for form in (body, unicodedata.normalize("NFKC", body)):
        assert not re.search(r"(?i)(https?|ftp)\s*:\s*[/\\]", form)
        assert not re.search(r"(?i)evil\s*\.\s*example", form)
        assert "www.evil" not in form.lower()
    odd = [c for c in body if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]
    assert odd == []


def assert_no_links(html: str, context: dict[str, Any]) -> None:
    for tag, attrs in _tags(html):
        assert tag != "a" and "href" not in attrs, (tag, attrs)
        assert "src" not in attrs or (tag == "img" and attrs["src"] == context.get("chart_src")), (tag, attrs)


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@pytest.mark.parametrize("name", template_names())
def test_applicant_text_is_inert_in_every_mail(name: str, payload: str) -> None:
    context = poisoned(name, PAYLOADS[payload])
    out = render(name, context)
    for subject in (out.subject, tagged_subject(out.subject, "JB2025-0007")):
        assert "evil" not in subject.lower() and "账户异常" not in subject and "登录" not in subject
    for body in (out.text, out.html):
        # the one address of our own a mail may carry: the workspace's sign-in page in an
        # expert's invitation (web.public_url, set by the operator; plain text, no <a>)
        assert_inert(body.replace(context.get("sign_in", "") or "\0", "") if name == "expert_invite" else body)
        if APPLICANT[name]:
            assert "evil[.]example" in body  # shown, as data
    assert "\nBcc:" not in out.text
    assert_no_links(out.html, context)


@pytest.mark.parametrize(("name", "path"), [(n, p) for n in template_names() for p in APPLICANT[n]])
def test_each_applicant_value_is_filtered(name: str, path: str) -> None:
    """One value at a time: an unfiltered one would show ``http://evil.example`` as it is."""
    out = render(name, poisoned(name, PAYLOAD, (path,)))
    assert path in UNSHOWN or "evil[.]example" in out.text + out.html
    for body in (out.subject, out.text, out.html):
        assert_inert(body)


@pytest.mark.parametrize("name", template_names())
def test_subjects_name_no_applicant_value(name: str) -> None:
    env = environment()
    assert env.loader is not None
    source = env.loader.get_source(env, f"{name}.subject.txt")[0]
    used = meta.find_undeclared_variables(env.parse(source))
    applicant = {p.split(".")[0].removesuffix("[]") for p in APPLICANT[name]} - {"digest"}
    assert not used & applicant, used & applicant


def test_fixed_subjects() -> None:
    subjects = {n: render(n, CONTEXTS[n]).subject for n in template_names()}
    assert subjects["ack"] == "申报材料已收到（数据流通交易）"
    assert subjects["deficiency"] == "申报材料需补正"
    assert subjects["redirect"] == "请向所在设区市大数据局报送揭榜挂帅申报材料"
    assert tagged_subject(subjects["ack"], "JB2025-0007") == "[JB2025-0007] 申报材料已收到（数据流通交易）"
    assert render("deficiency", {**CONTEXTS["deficiency"], "reference": None, "unit": None}).subject == "申报材料需补正"


def test_example_contexts_stay_as_they_are() -> None:
    """Ordinary names, file names and findings pass through unchanged."""
    out = render("ack", CONTEXTS["ack"])
    for value in (CONTEXTS["ack"]["unit"], CONTEXTS["ack"]["task_name"], *CONTEXTS["ack"]["files"]):
        assert value in out.text and value in out.html
    for item in CONTEXTS["deficiency"]["items"]:
        assert item["message"] in render("deficiency", CONTEXTS["deficiency"]).text


def test_a_value_of_only_invisible_characters_counts_as_missing() -> None:
    out = render("ack", {**CONTEXTS["ack"], "task_name": "\u202e\u200b\r\n"})
    assert "揭榜任务：（申报书中未识别到）" in out.text


def test_markup_from_a_caller_is_still_escaped() -> None:
    out = render("ack", {**CONTEXTS["ack"], "unit": Markup('<a href="http://evil.example">x</a>')})
    assert "<a " not in out.html and "&lt;a href=" in out.html
    assert_no_links(out.html, {})
    assert_inert(out.html)


def test_templates_filter_what_they_echo() -> None:
    """Belt and braces for the tests above: the sources themselves say ``|data``."""
    for path in TEMPLATES_DIR.glob("*"):
        if path.name.endswith(".subject.txt"):
            continue
        source = path.read_text(encoding="utf-8")
        for expr in re.findall(r"\{\{(.*?)\}\}", source):
            for word in ("unit", "task_name", "name", "message", "from_addr", "subject", "error"):
                if re.search(rf"(?<!\w)(?:\w+\.)?{word}\b", expr) and "|data" not in expr:
                    raise AssertionError(f"{path.name}: {{{{{expr}}}}} echoes {word} without |data")


# --------------------------------------------------------------------------- the filter


@pytest.mark.parametrize(("raw", "shown"), [
    ("http://evil.example/x", "hxxp://evil[.]example/x"),
    ("https://evil.example/login?a=1", "hxxps://evil[.]example/login?a=1"),
    ("HTTPS://Evil.Example/", "hxxps://Evil[.]Example/"),
    ("ftp://files.evil.com/a", "fxp://files[.]evil[.]com/a"),
    ("www.evil.com", "www[.]evil[.]com"),
    ("WWW.Evil.Com/path", "WWW[.]Evil[.]Com/path"),
    ("//evil.com/x", "//evil[.]com/x"),
    ("\\\\evil.com\\share", "\\\\evil[.]com\\share"),
    ("请登录evil.com验证", "请登录evil[.]com验证"),
    ("http://gov.cn@evil.example/", "hxxp://gov[.]cn@evil[.]example/"),
    ("http://127.0.0.1:8080/a", "hxxp://127[.]0[.]0[.]1:8080/a"),
    ("xhttp://evil.com", "xhttp[:]//evil[.]com"),
    ("file://server/share", "file[:]//server/share"),
    ("http://a.com，http://b.com", "hxxp://a[.]com，hxxp://b[.]com"),
    ("登录 http://evil.example/登录。请核实", "登录 hxxp://evil[.]example/登录。请核实"),
    ("见 http://evil.example.", "见 hxxp://evil[.]example."),
    # look-alikes a browser or mail client folds to ASCII
    ("http：//evil.example", "hxxp://evil[.]example"),
    ("ｈｔｔｐｓ：／／evil．example／x", "hxxps://evil[.]example／x"),
    ("http:\\\\evil.com", "hxxp://evil[.]com"),
    ("http:/evil.com", "hxxp:/evil[.]com"),
    ("访问 evil。example。com", "访问 evil[.]example[.]com"),
    # already defanged: unchanged
    ("hxxp://evil[.]example/x", "hxxp://evil[.]example/x"),
    # an address typed as a unit name: no mailto link in our answer
    ("请联系evil@phish.example补充", "请联系evil@phish[.]example补充"),
    ("联系 wang@quanhe.example.cn 或 li.si@qq.com", "联系 wang@quanhe[.]example[.]cn 或 li.si@qq[.]com"),
])
def test_data_defangs_links(raw: str, shown: str) -> None:
    assert data(raw) == shown == defang(raw)


@pytest.mark.parametrize("kept", [
    "山东数据交易有限公司",
    "揭榜挂帅申报书-山东数据交易.docx",
    "申报书（盖章）.pdf",
    "report.v1.2.docx",
    "申报书（山东数据交易有限公司）缺少 Word 版（.doc/.docx/.wps），请补发。",
    "揭榜单位统一社会信用代码 91370100MA3C5X8Y2K 校验位不正确。",
    "日期//备注",
    "<script>alert(1)</script>",
])
def test_data_keeps_ordinary_text(kept: str) -> None:
    assert data(kept) == kept


@pytest.mark.parametrize(("raw", "shown"), [
    ("a\u202eb\u202ac\u202bd\u202ce\u202df", "abcdef"),
    ("a\u2066b\u2067c\u2068d\u2069e\u200e\u200f", "abcde"),
    ("ht\u200btp://evil.com", "hxxp://evil[.]com"),  # joined first, then defanged
    ("某公司\r\nBcc: x@y.cn", "某公司 Bcc: x@y[.]cn"),
    ("a\x00b\x1bc\x7fd", "abcd"),
    ("  a\t\tb\u2028c\u2029d\u0085e  ", "a b c d e"),
])
def test_data_removes_controls_and_collapses_lines(raw: str, shown: str) -> None:
    assert data(raw) == shown


def test_data_truncates() -> None:
    assert data("长" * 200) == "长" * 200
    cut = data("长" * 201)
    assert len(cut) == 200 and cut.endswith("…")
    assert data("一二三四五六七八九十", 5) == "一二三四…"
    near_the_end = data("长" * 190 + " http://evil.example/login")
    assert len(near_the_end) <= 200 and "http" not in near_the_end and "evil.example" not in near_the_end
    assert len(data("http://" + "a." * 500_000)) == 200  # a huge value costs little


def test_data_returns_plain_text() -> None:
    shown = data(Markup("<b>x</b>"))
    assert type(shown) is str and shown == "<b>x</b>"
    assert data(None) == "" and data(42) == "42"
