"""Issue #23, item 3: a form checked at a glance — its preview beside the fields read from it,
every attachment of the mail (the unreadable ones too) and the raw mail reachable from the
submission's page, and a claim's attachments previewable."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from PIL import Image
from sqlmodel import Session, select
from support.records import T0, application_mail, deliver, form
from support.web import JINAN_SENDER, STRANGER, Workspace, add_recommended

from tracker.records.queries import find_submission
from tracker.store.tables import Claim, StoredMessage, SubmissionVersion


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, "PNG")
    return out.getvalue()


def test_the_preview_stands_beside_the_fields(workspace: Workspace) -> None:
    page = workspace.signed_in("alice").get(f"/submissions/{workspace.jinan}").text
    grid = page[page.index('class="check-grid"'):page.index('id="deficiencies"')]
    assert grid.index('id="fields"') < grid.index('id="preview-pane"')  # both in the one grid
    frame = re.search(r'<iframe name="preview-frame" id="preview-frame" title="材料预览" src="([^"]+)"', grid)
    assert frame and frame.group(1).startswith(f"/submissions/{workspace.jinan}/v1/preview?name=")
    # each version's reading names its document: a click shows it in the pane, beside the fields
    assert f'href="{frame.group(1)}" target="preview-frame" title="在右侧预览"' in grid
    css = workspace.signed_in("alice").get("/static/style.css").text
    assert ".check-grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr)" in css
    assert "@media (max-width: 1000px) {\n  .check-grid { grid-template-columns: minmax(0, 1fr); }" in css


def test_every_attachment_and_the_raw_mail_are_reachable_from_the_page(workspace: Workspace) -> None:
    deliver(workspace.app, application_mail(sender=JINAN_SENDER, when=T0 + timedelta(days=2), attachments=[
        ("申报书.docx", form()), ("说明.txt", "补充说明：盖章页随后寄出。".encode()), ("盖章页.png", _png())]))
    with Session(workspace.app.engine) as s:
        sub = find_submission(s, workspace.jinan)
        version = s.exec(select(SubmissionVersion).where(SubmissionVersion.submission_id == sub.id,  # type: ignore[union-attr]
                                                         SubmissionVersion.number == 2)).one()
        pk = version.message_pk
    alice = workspace.signed_in("alice")
    page = alice.get(f"/submissions/{workspace.jinan}").text
    assert f'href="/submissions/{workspace.jinan}/messages/{pk}"' in page
    assert f'href="/submissions/{workspace.jinan}/messages/{pk}/raw"' in page
    files = alice.get(f"/submissions/{workspace.jinan}/messages/{pk}").text
    assert "说明.txt" in files and "盖章页.png" in files and "申报书.docx" in files
    assert "未识别为申报材料" in files[files.index("说明.txt"):]
    base = f"/submissions/{workspace.jinan}/messages/{pk}"
    text = alice.get(f"{base}/file", params={"name": "说明.txt"})
    assert text.status_code == 200 and "盖章页随后寄出" in text.content.decode()
    assert text.headers["content-type"] == "application/octet-stream"
    image = alice.get(f"{base}/preview", params={"name": "盖章页.png"})
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    raw = alice.get(f"{base}/raw")
    assert raw.status_code == 200 and b"Subject:" in raw.content
    assert alice.get(f"{base}/file", params={"name": "../../etc/passwd"}).status_code == 404
    # a mail that has nothing to do with this submission is not reachable through it
    with Session(workspace.app.engine) as s:
        other = s.exec(select(StoredMessage).where(StoredMessage.id != pk)).all()
        unrelated = [m.id for m in other if m.from_addr and "weifang" in m.from_addr]
    assert alice.get(f"/submissions/{workspace.jinan}/messages/{unrelated[0]}").status_code == 404


def test_a_city_account_reaches_the_mail_of_what_it_recommended_and_nothing_else(workspace: Workspace) -> None:
    recommended = add_recommended(workspace)
    with Session(workspace.app.engine) as s:
        mine = s.exec(select(SubmissionVersion).where(
            SubmissionVersion.submission_id == find_submission(s, recommended).id)).first()  # type: ignore[union-attr]
        direct = s.exec(select(SubmissionVersion).where(
            SubmissionVersion.submission_id == find_submission(s, workspace.jinan).id)).first()  # type: ignore[union-attr]
    city = workspace.signed_in("jinan")
    assert city.get(f"/submissions/{recommended}/messages/{mine.message_pk}").status_code == 200  # type: ignore[union-attr]
    assert city.get(f"/submissions/{recommended}/messages/{mine.message_pk}/raw").status_code == 200  # type: ignore[union-attr]
    assert city.get(f"/submissions/{workspace.jinan}/messages/{direct.message_pk}/raw").status_code == 404  # type: ignore[union-attr]
    # nor through its own submission's address
    assert city.get(f"/submissions/{recommended}/messages/{direct.message_pk}/raw").status_code == 404  # type: ignore[union-attr]
    assert city.get(f"/mail/messages/{direct.message_pk}/files").status_code == 403  # type: ignore[union-attr]


def test_a_claims_attachments_are_listed_and_previewable(workspace: Workspace) -> None:
    with Session(workspace.app.engine) as s:
        claim = s.exec(select(Claim)).first()
        assert claim is not None and s.get(StoredMessage, claim.message_pk).from_addr == STRANGER  # type: ignore[union-attr]
        pk = claim.message_pk
    alice = workspace.signed_in("alice")
    assert f'href="/mail/messages/{pk}/files"' in alice.get("/confirm").text
    files = alice.get(f"/mail/messages/{pk}/files").text
    [name] = re.findall(r'<span class="docname">([^<]+\.docx)</span>', files)
    assert f'/mail/messages/{pk}/preview?name=' in files and "预览" in files
    got = alice.get(f"/mail/messages/{pk}/file", params={"name": name})
    assert got.status_code == 200 and got.content[:2] == b"PK"
