"""The round as data: its directions, task types, limits, deadlines and channels.

A direction's number is its position in ``Catalogue.directions`` (1-based), so a new
year's round is a new list in config.yaml, not new code. ``SHANDONG_2025`` is the round
of the notice of 2024-12-27 and what every absent key means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from types import MappingProxyType
from zoneinfo import ZoneInfo

from campaign.review import AcceptanceRules, ReviewRules

CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (for 1..99, as the notice numbers things)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CN_DIGITS[tens] + "十")
    return head + (CN_DIGITS[ones] if ones else "")


@dataclass(frozen=True)
class Direction:
    """One 榜单方向: its official name, the shortened names people write, and the words
    of its scope in the notice (section 二) that a form may write instead of its name."""

    name: str
    aliases: tuple[str, ...] = ()
    # scope words: a direction is read from them only when a form names none, and only
    # when they point to this one direction clearly (intake.extract.directions)
    keywords: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The name first, then each alias, without repeats."""
        return tuple(dict.fromkeys((self.name, *self.aliases)))


@dataclass(frozen=True)
class TaskType:
    """A 任务类别 and the outcome it must promise (notice 三.3)."""

    key: str  # "theory" | "technology" | "application" (the inspect contract's values)
    label: str  # 理论研究
    words: tuple[str, ...]  # how a form writes it
    outcome: str  # 研究报告: what the notice asks of this category
    outcomes: frozenset[str]  # outcome keys (see OUTCOME_WORDS) that satisfy it


# Outcome keys → the words a form uses for them.
OUTCOME_WORDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "report": ("研究报告", "调研报告", "咨询报告", "白皮书", "政策建议"),
    "innovation": ("创新成果", "专利", "软件著作权", "软著", "标准", "技术成果"),
    "scenario": ("应用场景",),
    "case": ("实践案例", "典型案例", "案例"),
})

TASK_TYPES: tuple[TaskType, ...] = (
    TaskType("theory", "理论研究", ("理论研究", "理论研究类", "理论"), "研究报告",
             frozenset({"report"})),
    TaskType("technology", "技术创新", ("技术创新", "技术创新类", "技术研发"), "创新成果",
             frozenset({"innovation"})),
    TaskType("application", "应用实践", ("应用实践", "应用实践类", "应用示范"), "应用场景或实践案例",
             frozenset({"scenario", "case"})),
)

# The channels of the notice: direct to the province, or through a city bureau.
CHANNELS: Mapping[str, str] = MappingProxyType({"direct": "直报", "via_city": "设区市推荐"})

# Deadline keys: who must have sent what by when.
DEADLINE_KEYS: Mapping[str, str] = MappingProxyType({
    "direct": "中央驻鲁、省属单位报送省大数据局",
    "city_applicant": "其他单位报送所在设区市大数据局",
    "city_bureau": "各市大数据局报送推荐材料",
})

SHANDONG_DIRECTIONS: tuple[Direction, ...] = (
    # Shortened names are matched longest first, so "数据流通利用技术" never also counts
    # as "数据流通交易" and "数据产权保护" never as "数据产权".
    # Keywords are the notice's own scope words (section 二, "围绕……等方面"), left out
    # where they would mislead: 收益分配 (the scope of both 三 and 五), 人工智能 (一; any
    # form may name it), 标准规范 (二; every direction promises standards), 数场 (六;
    # inside 多数场景). 隐私计算 is how forms shorten 六's 隐私保护计算.
    Direction("数据产权保护", ("产权保护", "数据产权"),
              ("产权归属", "产权登记", "权益保护", "三权分置", "衍生数据")),
    Direction("数据治理", (), ("数据产品标准", "质量评价", "治理工具", "合规管理")),
    Direction("公共数据资源授权运营", ("公共数据授权运营", "公共数据资源运营", "授权运营"),
              ("公共数据", "定价机制")),
    Direction("数据流通交易", ("流通交易", "数据交易"),
              ("示范合同", "合规指引", "负面清单", "统计监测", "信用管理", "联管联治")),
    Direction("数据收益分配", ("收益分配",), ("有偿使用", "定价评估")),
    Direction("数据流通利用技术", ("数据流通利用", "流通利用技术", "流通利用"),
              ("可信数据空间", "数联网", "数据元件", "隐私保护计算", "隐私计算", "区块链")),
    Direction("数据产业发展", ("产业发展", "数据产业"), ("企业培育", "全链条")),
    Direction("数据安全", (),
              ("分类分级", "安全审计", "安全管理认证", "匿名化", "安全保险")),
)

SHANDONG_CITIES: tuple[str, ...] = (
    "济南市", "青岛市", "淄博市", "枣庄市", "东营市", "烟台市", "潍坊市", "济宁市",
    "泰安市", "威海市", "日照市", "临沂市", "德州市", "聊城市", "滨州市", "菏泽市",
)


def _frozen(value: Mapping[str, date] | None) -> Mapping[str, date]:
    # a private copy (a plain dict: the catalogue crosses into worker processes by pickle)
    return dict(value or {})


@dataclass(frozen=True)
class Catalogue:
    """Everything the round decides; read by intake, notifier and tracker alike."""

    code: str = "JB2025"  # references look like JB2025-0001
    year: int = 2025
    title: str = "全省数据要素市场化配置改革揭榜挂帅"
    province: str = "山东省"
    timezone: str = "Asia/Shanghai"
    directions: tuple[Direction, ...] = SHANDONG_DIRECTIONS
    task_types: tuple[TaskType, ...] = TASK_TYPES
    consortium_max: int = 3  # lead unit + partners
    city_quota: int = 2  # recommendations per city per direction
    cities: tuple[str, ...] = SHANDONG_CITIES
    review: ReviewRules = ReviewRules()  # how applications are scored and ranked (四（三）)
    acceptance: AcceptanceRules = AcceptanceRules()  # the year after (五.1)
    # keys of DEADLINE_KEYS → the last day (through 23:59:59 local time)
    deadlines: Mapping[str, date] = field(
        default_factory=lambda: _frozen({"direct": date(2025, 1, 20), "city_applicant": date(2025, 1, 15),
                                         "city_bureau": date(2025, 1, 20)}),
        hash=False, compare=False,
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "deadlines", _frozen(self.deadlines))

    # --- directions ---------------------------------------------------------------
    @property
    def direction_count(self) -> int:
        return len(self.directions)

    def direction_name(self, number: int | None, default: str = "未识别") -> str:
        """``数据治理`` for 2; *default* for 0, None or a number the round does not have."""
        if number is None or not 0 < number <= len(self.directions):
            return default
        return self.directions[number - 1].name

    def direction_label(self, number: int | None, default: str = "未识别") -> str:
        """``（二）数据治理`` as the notice numbers them; *default* when not identified."""
        if number is None or not 0 < number <= len(self.directions):
            return default
        return f"（{cn_number(number)}）{self.directions[number - 1].name}"

    @property
    def direction_names(self) -> dict[int, str]:
        return {i: d.name for i, d in enumerate(self.directions, start=1)}

    @property
    def direction_aliases(self) -> dict[int, tuple[str, ...]]:
        return {i: d.names for i, d in enumerate(self.directions, start=1)}

    @property
    def direction_keywords(self) -> dict[int, tuple[str, ...]]:
        """Each direction's scope words (empty for a round whose config gives none)."""
        return {i: d.keywords for i, d in enumerate(self.directions, start=1)}

    # --- task types -----------------------------------------------------------------
    def task_type(self, key: str) -> TaskType | None:
        return next((t for t in self.task_types if t.key == key), None)

    @property
    def task_labels(self) -> dict[str, str]:
        return {t.key: t.label for t in self.task_types}

    # --- deadlines --------------------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def deadline_end(self, key: str) -> datetime | None:
        """The last instant of a deadline day (23:59:59.999999 local time), or None."""
        day = self.deadlines.get(key)
        if day is None:
            return None
        return datetime.combine(day, time.max, tzinfo=self.tz)

    # --- wording that depends on the round ---------------------------------------------
    @property
    def round_title(self) -> str:
        """``2025年全省数据要素市场化配置改革揭榜挂帅``."""
        return f"{self.year}年{self.title}"

    def words(self) -> dict[str, object]:
        """The values deficiency wording may name (see ``campaign.codes``)."""
        return {
            "round_title": self.round_title,
            "direction_count": cn_number(self.direction_count),
            "consortium_max": self.consortium_max,
            "city_quota": self.city_quota,
            "province": self.province,
        }


SHANDONG_2025 = Catalogue()
