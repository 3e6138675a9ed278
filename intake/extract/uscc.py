"""统一社会信用代码 (GB 32100-2015): validation, and where the code says a unit is registered."""

from __future__ import annotations

import re

from intake.extract.labels import nfkc

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}

# docs/rules.md: the 3rd–6th characters name the city; 3712 is the former 莱芜, now 济南.
CITY_PREFIXES: dict[str, str] = {
    "3701": "济南市",
    "3712": "济南市",
    "3702": "青岛市",
    "3703": "淄博市",
    "3704": "枣庄市",
    "3705": "东营市",
    "3706": "烟台市",
    "3707": "潍坊市",
    "3708": "济宁市",
    "3709": "泰安市",
    "3710": "威海市",
    "3711": "日照市",
    "3713": "临沂市",
    "3714": "德州市",
    "3715": "聊城市",
    "3716": "滨州市",
    "3717": "菏泽市",
}
CITIES: tuple[str, ...] = tuple(dict.fromkeys(CITY_PREFIXES.values()))
NATIONAL = "100000"  # a national-level registration: not evidence of being outside Shandong
PROVINCIAL = "370000"
# GB/T 2260 province codes (first two digits of a region code).
_PROVINCES = {
    "11",
    "12",
    "13",
    "14",
    "15",
    "21",
    "22",
    "23",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "50",
    "51",
    "52",
    "53",
    "54",
    "61",
    "62",
    "63",
    "64",
    "65",
    "71",
    "81",
    "82",
}
_CANDIDATE = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{2}\d{6}[0-9A-Z]{10}(?![0-9A-Z])")


def normalize(raw: str | None) -> str:
    """Upper-case, half-width, without the spaces and dashes people type into codes."""
    return re.sub(r"[\s\-–—_.·]", "", nfkc(raw or "")).upper()


def check_char(first17: str) -> str | None:
    try:
        total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    except (KeyError, ValueError):
        return None
    return ALPHABET[(31 - total % 31) % 31]


def is_valid(code: str | None) -> bool:
    code = normalize(code)
    if len(code) != 18 or any(ch not in _VALUE for ch in code) or not code[2:8].isdigit():
        return False
    return check_char(code[:17]) == code[17]


def region(code: str | None) -> str | None:
    """The 6-digit administrative-division code (characters 3–8) of a valid code."""
    code = normalize(code)
    return code[2:8] if is_valid(code) else None


def city_of(code: str | None) -> str | None:
    reg = region(code)
    return CITY_PREFIXES.get(reg[:4]) if reg else None


def in_shandong(code: str | None) -> bool | None:
    """True/False when the code says so; None when it cannot (invalid, national, odd region)."""
    reg = region(code)
    if reg is None or reg == NATIONAL:
        return None
    if reg.startswith("37"):
        return True
    return False if reg[:2] in _PROVINCES else None


def find_codes(text: str) -> list[str]:
    """Code-shaped tokens in free text, valid ones first."""
    found = list(dict.fromkeys(_CANDIDATE.findall(nfkc(text or "").upper())))
    return sorted(found, key=lambda c: not is_valid(c))
