"""The workspace at the scale of a real round (issue #23), as a clerk notices it: a page of
rows at a time with the total, every sort key ordering the rows, exports holding exactly
what the filter shows, no code or English state anywhere a clerk reads, a decision that
is never a default, and held answers released in one go.

Hundreds of submissions are written straight into the tables (``support.crowd``); the
two of ``support.web`` come through the real pipeline. Speed is benchmarks/workspace.py's
business, never a test's.
"""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import openpyxl
from sqlmodel import Session, col, select
from support.crowd import crowd, held
from support.web import Workspace, csrf_of

from campaign import CODES
from campaign.labels import STATUS_LABELS
from notifier.models import OutboxMail
from tracker.records.queries import find_submission
from tracker.store.tables import Event, MessageState, StoredMessage, Submission, SubmissionStatus

CROWD = 300


# --- reading pages as a person does -------------------------------------------------------------
class _Text(HTMLParser):
    """The text a person reads: element text and tooltips (title), never other attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self.parts.extend(v for k, v in attrs if k == "title" and v)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def readable(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def rows_of(html: str) -> list[list[str]]:
    """The cells of #submission-list's body rows, as text."""
    table = html[html.index('id="submission-list"'):]
    body = table[table.index("<tbody>"):table.index("</tbody>")]
    return [[readable(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def refs_of(html: str) -> list[str]:
    return [cells[0] for cells in rows_of(html) if len(cells) > 1]


def _everything(client, **params: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Every reference of a filtered list, page after page."""
    refs: list[str] = []
    first = client.get("/submissions", params=params | {"per_page": "200"}).text
    pages = int(m.group(1)) if (m := re.search(r"第 \d+/(\d+) 页", first)) else 1
    refs += refs_of(first)
    for n in range(2, pages + 1):
        refs += refs_of(client.get("/submissions", params=params | {"per_page": "200", "page": str(n)}).text)
    return refs


def _crowded(ws: Workspace, n: int = CROWD) -> list[str]:
    crowd(ws.app, n)
    with Session(ws.app.engine) as s:
        return list(s.exec(select(Submission.reference).order_by(col(Submission.id))).all())


def _post(client, path: str, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/submissions", params={"per_page": "50"}).text)
    return client.post(path, data=data | {"csrf_token": token})


# --- pages ---------------------------------------------------------------------------------------
def test_a_page_at_a_time_with_the_total_and_no_overlap(workspace: Workspace) -> None:
    every = _crowded(workspace)
    client = workspace.signed_in("alice")
    first = client.get("/submissions")
    assert first.status_code == 200
    page1 = refs_of(first.text)
    assert len(page1) == 100 and f"共 {len(every)} 项" in first.text  # 100 of 302 shown, all counted
    # the counts are folded away above the rows: the first screen is rows
    assert '<details class="counts">' in first.text
    assert first.text.index('<details class="counts">') < first.text.index('id="submission-list"')
    assert 'rel="next"' in first.text and "page=2" in first.text
    page2 = refs_of(client.get("/submissions", params={"page": "2"}).text)
    assert len(page2) == 100 and not set(page1) & set(page2)
    assert page1 + page2 == sorted(every)[:200]  # by reference, continued
    # every submission exactly once over the pages
    assert sorted(_everything(client)) == sorted(every)
    # a page past the last is the last; no more than 200 rows a page, whatever is asked
    last = client.get("/submissions", params={"page": "99"}).text
    assert refs_of(last) == sorted(every)[300:] and "第 4/4 页" in last
    assert len(refs_of(client.get("/submissions", params={"per_page": "5000"}).text)) == 100
    assert len(refs_of(client.get("/submissions", params={"per_page": "200"}).text)) == 200
    # the htmx partial is the same page without the frame
    partial = client.get("/submissions", params={"page": "2"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.text and refs_of(partial.text) == page2


def test_each_sort_key_orders_the_rows_and_ties_never_repeat_across_pages(workspace: Workspace) -> None:
    every = _crowded(workspace)
    client = workspace.signed_in("alice")
    app = workspace.app
    cities = list(app.policy.catalogue.cities)
    statuses = [STATUS_LABELS[s] for s in SubmissionStatus]
    directions = [app.policy.catalogue.direction_label(n) for n in range(1, app.policy.catalogue.direction_count + 1)]
    # the column each key sorts, and the order a clerk expects of what it shows (empty: last, both ways)
    columns = {
        "reference": (0, lambda v: v), "unit": (1, lambda v: None if v == "—" else v),
        "direction": (2, lambda v: directions.index(v) if v in directions else None),
        "city": (3, lambda v: cities.index(v) if v in cities else None),
        "status": (5, lambda v: statuses.index(v)), "received": (6, lambda v: v), "waiting": (7, lambda v: v),
    }
    for key, (column, order) in columns.items():
        for way in ("", "desc"):
            html = client.get("/submissions", params={"sort": key, "order": way, "per_page": "200"}).text
            shown = [order(cells[column]) for cells in rows_of(html)]
            assert len(shown) == 200
            known = [v for v in shown if v is not None]
            assert shown == sorted(known, reverse=bool(way)) + [None] * (len(shown) - len(known)), (key, way)
            assert 'aria-sort="' + ("descending" if way else "ascending") + '"' in html
        # many rows share a status or a city: the pages still split them without overlap or gap
        seen = _everything(client, sort=key, order="desc")
        assert sorted(seen) == sorted(every) and len(set(seen)) == len(every), key
    # an unknown key is the default order, not an error
    odd = client.get("/submissions", params={"sort": "unit; DROP TABLE submission", "per_page": "200"})
    assert odd.status_code == 200 and refs_of(odd.text) == sorted(every)[:200]


def test_filters_sort_and_page_together_and_the_links_keep_them(workspace: Workspace) -> None:
    _crowded(workspace)
    client = workspace.signed_in("alice")
    html = client.get("/submissions", params={"status": "incomplete", "sort": "city", "per_page": "50"}).text
    with Session(workspace.app.engine) as s:
        incomplete = len(s.exec(select(Submission).where(Submission.status == "incomplete")).all())
    assert f"共 {incomplete} 项" in html and incomplete > 50
    assert all(cells[5] == STATUS_LABELS["incomplete"] for cells in rows_of(html))
    link = re.search(r'href="/submissions\?([^"]*page=2[^"]*)"', html)
    assert link is not None
    kept = link.group(1).replace("&amp;", "&")
    assert "status=incomplete" in kept and "sort=city" in kept and "per_page=50" in kept
    # the filter form carries the sort, so changing a filter keeps the order
    assert re.search(r'<select name="sort">.*?<option value="city" selected', html, re.S)


# --- exports follow the filter -----------------------------------------------------------------------
def test_an_export_holds_exactly_the_rows_the_filter_shows(workspace: Workspace) -> None:
    _crowded(workspace)
    client = workspace.signed_in("alice")
    wanted = {"direction": "3", "status": "complete"}
    shown = _everything(client, **wanted)
    assert 0 < len(shown) < 100
    page = client.get("/submissions", params=wanted).text
    link = re.search(r'href="(/export/submissions\.csv[^"]*)"', page)
    assert link is not None and "direction=3" in link.group(1) and "status=complete" in link.group(1)
    exported = client.get(link.group(1).replace("&amp;", "&"))
    assert exported.status_code == 200
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert sorted(r[0] for r in lines[1:]) == sorted(shown)
    book = openpyxl.load_workbook(io.BytesIO(client.get("/export/submissions.xlsx", params=wanted).content))
    sheet = book["申报汇总"]
    assert sorted(str(r[0]) for r in sheet.iter_rows(min_row=2, values_only=True) if r[0]) == sorted(shown)
    problems = {str(r[0]) for r in book["问题清单"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert problems <= set(shown)
    # a search narrows the export too; no filter: everything
    one = client.get("/export/submissions.csv", params={"q": workspace.jinan}).content.decode("utf-8-sig")
    assert [r[0] for r in list(csv.reader(io.StringIO(one)))[1:]] == [workspace.jinan]
    everything = client.get("/export/submissions.csv").content.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(everything)))) == CROWD + 2 + 1


# --- what a clerk reads ------------------------------------------------------------------------------
ENGLISH = sorted({*CODES, *(s.value for s in SubmissionStatus)}, key=len, reverse=True)


def _english_in(text: str) -> list[str]:
    return [w for w in ENGLISH if re.search(rf"(?<![A-Za-z_]){w}(?![A-Za-z_])", text)]


def test_no_code_or_english_state_where_a_clerk_reads(workspace: Workspace) -> None:
    _crowded(workspace)
    client = workspace.signed_in("alice")
    # the list: every deficiency shown by its title, in the rows and in the filter
    listing = client.get("/submissions", params={"deficiency": "any", "per_page": "200"}).text
    assert "未能识别任务类别" in listing and _english_in(readable(listing)) == []
    for page in ("1", "2"):
        assert _english_in(readable(client.get("/submissions", params={"page": page}).text)) == []
    # one submission after corrections, decisions and status changes: its event log in words
    ref = workspace.weifang
    assert _post(client, f"/submissions/{ref}/correct", field="unit_nature", value="central").status_code == 303
    assert _post(client, f"/submissions/{ref}/correct", field="task_types", value="theory,application").status_code == 303
    assert _post(client, f"/submissions/{ref}/status", status="under_review", note="进入评审", confirm="1").status_code == 303
    detail = client.get(f"/submissions/{ref}").text
    text = readable(detail)
    assert _english_in(text) == [], _english_in(text)
    events = readable(detail[detail.index('id="events"'):])
    assert "材料待补正 → 材料齐全，待评审" in events  # the correction completed it
    assert "材料齐全，待评审 → 评审中：进入评审" in events
    assert "单位性质：省属 → 中央驻鲁" in events and "未能识别任务类别" in events
    # a value that was never read is （空）, never "0" or "None"
    with Session(workspace.app.engine) as s:
        blank = s.exec(select(Submission).where(Submission.direction == 0)).first()
        assert blank is not None
    assert _post(client, f"/submissions/{blank.reference}/correct", field="direction", value="3").status_code == 303
    corrected = client.get(f"/submissions/{blank.reference}").text
    history = corrected[corrected.index("更正记录"):corrected.index('id="deficiencies"')]
    assert "（空）" in history and "（三）公共数据资源授权运营" in history
    assert not re.search(r"<td>0</td>|<td>None</td>", history)
    assert "榜单方向：（空） → （三）公共数据资源授权运营" in readable(corrected[corrected.index('id="events"'):])


def test_corrections_are_chosen_from_lists_in_chinese(workspace: Workspace) -> None:
    client = workspace.signed_in("alice")
    ref = workspace.weifang
    page = client.get(f"/submissions/{ref}").text
    nature = page[page.index('id="correct-unit_nature"'):]
    nature = nature[:nature.index("</form>")]
    assert re.search(r'<option value="central"\s*>中央驻鲁</option>', nature)
    assert '<option value="provincial" selected>省属</option>' in nature  # what the form said
    direction = page[page.index('id="correct-direction"'):]
    direction = direction[:direction.index("</form>")]
    assert '<option value="4" selected>（四）数据流通交易</option>' in direction and "<input name=\"value\"" not in direction
    types = page[page.index('id="correct-task_types"'):]
    types = types[:types.index("</form>")]
    assert '<option value="theory,technology"' in types and ">理论研究、技术创新</option>" in types
    # what the lists post is what the records keep; typed names are understood as well
    assert _post(client, f"/submissions/{ref}/correct", field="direction", value="2").status_code == 303
    assert _post(client, f"/submissions/{ref}/correct", field="task_types", value="理论研究、应用实践").status_code == 303
    assert _post(client, f"/submissions/{ref}/correct", field="unit_nature", value="其他").status_code == 303
    with Session(workspace.app.engine) as s:
        sub = find_submission(s, ref)
        assert sub is not None
        assert (sub.direction, sub.task_types, sub.unit_nature) == (2, ["theory", "application"], "other")
    bad = _post(client, f"/submissions/{ref}/correct", field="unit_nature", value="foreign")
    assert bad.status_code == 400 and "中央驻鲁 / 省属 / 其他" in bad.text


def test_a_decision_is_chosen_explained_and_confirmed_or_nothing_is_recorded(workspace: Workspace) -> None:
    client = workspace.signed_in("alice")
    ref = workspace.jinan
    page = client.get(f"/submissions/{ref}").text
    form = page[page.index('id="decide-form"'):]
    form = form[:form.index("</form>")]
    assert not re.search(r"\schecked|\sselected[\s>]", form)  # nothing preselected
    assert re.search(r'<input name="note" required', form) and 'name="confirm" value="1" required' in form

    def decisions() -> tuple[str, int]:
        with Session(workspace.app.engine) as s:
            sub = find_submission(s, ref)
            assert sub is not None
            return sub.status, len(s.exec(select(Event).where(Event.kind == "status_set")).all())

    before = decisions()
    for data in ({}, {"note": "评审通过", "confirm": "1"}, {"status": "not_selected", "confirm": "1"},
                 {"status": "not_selected", "note": "不符合方向"}, {"status": "complete", "note": "x", "confirm": "1"}):
        answer = _post(client, f"/submissions/{ref}/status", **data)
        assert answer.status_code == 400 and "未作任何更改" in answer.text, data
        assert decisions() == before, data
    empty = _post(client, f"/submissions/{ref}/status")
    assert "请选择新状态" in readable(empty.text)
    # refused for want of the confirmation: the clerk's choice and reason are kept on the form
    kept = _post(client, f"/submissions/{ref}/status", status="not_selected", note="不符合方向").text
    kept_form = kept[kept.index('id="decide-form"'):]
    assert 'value="not_selected" required checked' in kept_form and 'value="不符合方向"' in kept_form
    done = _post(client, f"/submissions/{ref}/status", status="not_selected", note="不符合方向", confirm="1")
    assert done.status_code == 303 and decisions() == ("not_selected", before[1] + 1)


# --- held answers and quarantine on /mail --------------------------------------------------------------
def test_held_answers_are_counted_paged_and_released_in_one_post(workspace: Workspace) -> None:
    ids = held(workspace.app, 1965)
    client = workspace.signed_in("alice")
    page = client.get("/mail").text
    section = page[page.index('id="held"'):page.index('id="outbox"')]
    assert "暂扣的答复（1,965）" in section and "释放符合条件的 1,965 封" in section
    assert section.count("<tr>") - 1 <= 50 and 'rel="next"' in section  # a page of rows, not 1,965
    assert "qq.com 655" in section  # counted per recipient domain (1,965 over three)
    second = client.get("/mail", params={"held_page": "2"}).text
    first_ids = set(re.findall(r"<tr><td>(\d+)</td>", section))
    second_ids = set(re.findall(r"<tr><td>(\d+)</td>", second[second.index('id="held"'):second.index('id="outbox"')]))
    assert first_ids and second_ids and not first_ids & second_ids
    # one domain in one POST, then everything left in one more
    assert _post(client, "/mail/held/release", domain="qq.com").status_code == 303
    with Session(workspace.app.engine) as s:
        states = dict(s.exec(select(OutboxMail.id, OutboxMail.state).where(col(OutboxMail.id).in_(ids))).all())
    assert sum(1 for v in states.values() if v == "pending") == 655
    assert _post(client, "/mail/held/release").status_code == 303
    with Session(workspace.app.engine) as s:
        states = dict(s.exec(select(OutboxMail.id, OutboxMail.state).where(col(OutboxMail.id).in_(ids))).all())
        events = s.exec(select(Event).where(Event.kind == "held_released")).all()
    assert set(states.values()) == {"pending"} and len(events) == 2
    assert "暂扣的答复（0）" in client.get("/mail").text


def test_quarantine_reasons_and_causes_in_chinese_with_the_raw_text_kept(workspace: Workspace) -> None:
    raw = "gave up after 3 worker deaths: CPU limit (1 s, SIGXCPU)"
    with Session(workspace.app.engine) as s:
        msg = s.exec(select(StoredMessage)).first()
        assert msg is not None
        msg.state, msg.error = MessageState.quarantined, raw
        s.add(msg)
        mail = s.exec(select(OutboxMail)).first()
        assert mail is not None
        mail.state, mail.cause = "held", "message #96"
        s.add(mail)
        s.commit()
    page = workspace.signed_in("alice").get("/mail").text
    quarantine = page[page.index('id="quarantine"'):page.index('id="review"')]
    assert "处理进程 3 次意外终止后放弃：占用 CPU 时间超过上限（1 秒）" in quarantine
    shown = quarantine.replace(quarantine[quarantine.index("<details"):quarantine.index("</details>")], "")
    assert "SIGXCPU" not in shown and raw in quarantine  # the raw text, folded away for whoever needs it
    held_part = page[page.index('id="held"'):page.index('id="outbox"')]
    assert "来信 #96" in held_part and "message #96" not in held_part
