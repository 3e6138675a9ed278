"""`jiebang inspect`: the staff-readable Rich view of one understood message."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table

from campaign.labels import NATURE_LABELS, direction_name, task_type_labels
from intake.model import Understanding


def _direction(value: int | None) -> str:
    return f"{value} {direction_name(value, '')}" if value else "—"


def render(result: Understanding, console: Console) -> None:
    head = Table.grid(padding=(0, 2))
    for label, value in (
        ("发件人", result.from_addr or "—"),
        ("主题", result.subject or "—"),
        ("到达时间", result.received_at.isoformat() if result.received_at else "—"),
        ("类型", result.intent),
        ("受理编号", result.reference or "—"),
        ("渠道", {"direct": "直报省局", "via_city": "设区市推荐"}.get(result.channel or "", "—")),
        ("推荐城市", result.city or "—"),
    ):
        head.add_row(f"[bold]{label}[/]", value)
    parts: list[RenderableType] = [head]
    if result.applications:
        apps = Table("揭榜单位", "信用代码", "性质", "所在市", "方向", "任务类别", "联合单位", title="申报书")
        for a in result.applications:
            apps.add_row(
                a.unit or "—", a.uscc or "—", NATURE_LABELS.get(a.unit_nature or "", "—"), a.city or "—",
                _direction(a.direction), task_type_labels(a.task_types) or "—",
                "、".join(a.partners) or "—",
            )
        parts.append(apps)
    if result.recommendations:
        recs = Table("排序", "方向", "揭榜单位", "任务名称", title="推荐汇总表")
        for r in result.recommendations:
            recs.add_row(str(r.rank), _direction(r.direction), r.unit, r.task_name or "—")
        parts.append(recs)
    if result.documents:
        docs = Table("文件", "所在压缩包", "格式", "角色", "可读", "扫描件", title="附件")
        for d in result.documents:
            docs.add_row(d.name, d.container or "—", d.format, d.role,
                         "是" if d.readable else f"[red]否[/] {d.error or ''}", "是" if d.scanned else "否")
        parts.append(docs)
    if result.deficiencies:
        defs = Table("代码", "级别", "说明", title="问题")
        for problem in result.deficiencies:
            style = "red" if problem.severity == "error" else "yellow"
            defs.add_row(f"[{style}]{problem.code}[/]", problem.severity, problem.message)
        parts.append(defs)
    else:
        parts.append("[green]未发现问题[/]")
    console.print(Panel(Group(*parts), title=result.message_id or "message", expand=True))
