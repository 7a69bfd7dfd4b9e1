"""Unified social credit code (统一社会信用代码, GB 32100-2015) helpers.

Layout of the 18 characters (positions are 1-based, as in the standard):

* position 1      registration authority code (登记管理部门码), e.g. 1 机构编制, 5 民政, 9 工商/市场监管
* position 2      entity category code (机构类别码); for authority 9: 1 企业, 2 个体工商户, 3 农民专业合作社
* positions 3-8   GB/T 2260 administrative division code of the registration authority
* positions 9-17  organisation code body (主体标识码, formerly the GB 11714 organisation code)
* position 18     check character

Every character comes from ``USCC_ALPHABET`` (digits plus upper-case letters without I, O, S, V, Z); the
value of a character is its index in the alphabet (0-30).  The check character is

    31 - (sum(value_i * weight_i for i in 1..17) mod 31),  where a result of 31 becomes 0,

with ``weight_i = 3**(i-1) mod 31``.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = [
    "AUTHORITY_CODES",
    "CATEGORY_CODES",
    "USCC_ALPHABET",
    "USCC_LENGTH",
    "WEIGHTS",
    "UsccError",
    "check_character",
    "make_uscc",
    "make_uscc_from_int",
    "region_of",
    "validate_uscc",
]

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_LENGTH = 18
WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))
# = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_VALUE: dict[str, int] = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_BASE = len(USCC_ALPHABET)  # 31
_BODY_LENGTH = 9

# Registration authority codes (position 1) and entity category codes (position 2) per GB 32100-2015.
AUTHORITY_CODES: dict[str, str] = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "工商",
    "A": "中央军委改革和编制办公室",
    "N": "农业",
    "Y": "其他",
}

CATEGORY_CODES: dict[str, dict[str, str]] = {
    "1": {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    "5": {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"},
    "9": {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"},
    "N": {"1": "农村集体经济组织", "2": "村民委员会", "9": "其他"},
    "Y": {"1": "其他"},
}


class UsccError(ValueError):
    """Raised for an invalid unified social credit code.

    ``code`` is one of ``"length"``, ``"alphabet"`` or ``"check_character"``; ``position`` is the 1-based
    position of the offending character (``None`` for length errors).  ``str(err)`` is the Chinese message.
    """

    def __init__(self, code: str, message_zh: str, message_en: str, position: int | None = None) -> None:
        super().__init__(message_zh)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.position = position

    def __str__(self) -> str:
        return self.message_zh


def _alphabet_error(position: int, char: str) -> UsccError:
    return UsccError(
        "alphabet",
        f"第{position}位字符“{char}”不在统一社会信用代码字符集中",
        f"character {char!r} at position {position} is not in the unified social credit code alphabet",
        position,
    )


def _check_alphabet(text: str, offset: int = 0) -> None:
    for i, ch in enumerate(text):
        if ch not in _VALUE:
            raise _alphabet_error(offset + i + 1, ch)


def _weighted_sum(text: str, first_position: int = 1) -> int:
    start = first_position - 1
    return sum(_VALUE[ch] * WEIGHTS[start + i] for i, ch in enumerate(text))


def _check_from_sum(total: int) -> str:
    return USCC_ALPHABET[(31 - total % 31) % 31]


def check_character(first17: str) -> str:
    """Return the check character (position 18) for the first 17 characters of a code."""
    if len(first17) != USCC_LENGTH - 1:
        raise UsccError(
            "length",
            f"计算校验码需要前17位字符，实际为{len(first17)}位",
            f"the check character needs exactly 17 characters, got {len(first17)}",
        )
    _check_alphabet(first17)
    return _check_from_sum(_weighted_sum(first17))


def validate_uscc(code: str) -> str:
    """Validate ``code`` and return it normalised (surrounding whitespace stripped, upper-cased).

    Raises :class:`UsccError` for a wrong length, a character outside the alphabet, or a wrong check
    character.
    """
    normalised = code.strip().upper()
    if len(normalised) != USCC_LENGTH:
        raise UsccError(
            "length",
            f"统一社会信用代码应为18位，实际为{len(normalised)}位",
            f"a unified social credit code has 18 characters, got {len(normalised)}",
        )
    _check_alphabet(normalised)
    expected = _check_from_sum(_weighted_sum(normalised[:17]))
    actual = normalised[17]
    if actual != expected:
        raise UsccError(
            "check_character",
            f"第18位校验码“{actual}”错误，应为“{expected}”",
            f"check character {actual!r} at position 18 is wrong, expected {expected!r}",
            18,
        )
    return normalised


def region_of(code: str) -> str:
    """Return the 6-digit GB/T 2260 region code (positions 3-8) of a code."""
    return code.strip().upper()[2:8]


def _check_prefix(region_code: str, authority: str, category: str) -> str:
    if len(region_code) != 6 or not region_code.isascii() or not region_code.isdigit():
        raise ValueError(f"region_code must be a 6-digit GB/T 2260 code, got {region_code!r}")
    if len(authority) != 1:
        raise ValueError(f"authority must be a single character, got {authority!r}")
    if len(category) != 1:
        raise ValueError(f"category must be a single character, got {category!r}")
    prefix = f"{authority}{category}{region_code}".upper()
    _check_alphabet(prefix)
    return prefix


def make_uscc(region_code: str, body: str, authority: str = "9", category: str = "1") -> str:
    """Build a valid code from a region code and a 9-character organisation-code body."""
    prefix = _check_prefix(region_code, authority, category)
    body = body.upper()
    if len(body) != _BODY_LENGTH:
        raise UsccError(
            "length",
            f"主体标识码应为9位，实际为{len(body)}位",
            f"the organisation code body has 9 characters, got {len(body)}",
        )
    _check_alphabet(body, offset=8)
    first17 = prefix + body
    return first17 + _check_from_sum(_weighted_sum(first17))


# --- fast deterministic generation -------------------------------------------------------------------

_BODY_SPACE = _BASE**_BODY_LENGTH  # 31**9 distinct bodies
# Bijective scramble n -> (n * _MULT + _ADD) mod 31**9 so consecutive n give unrelated-looking bodies.
# _MULT is coprime with 31, hence invertible modulo 31**9.
_MULT = 1_000_000_007
_ADD = 7_777_777_777
_CHUNK = _BASE**3  # the body is handled as three chunks of three characters


@lru_cache(maxsize=1)
def _chunk_tables() -> tuple[tuple[tuple[str, int], ...], ...]:
    """For each of the three 3-character chunks (positions 9-11, 12-14, 15-17): (text, weighted sum)."""
    tables = []
    for chunk_index in range(3):
        w0, w1, w2 = WEIGHTS[8 + 3 * chunk_index : 11 + 3 * chunk_index]
        table = []
        for a in range(_BASE):
            ca = USCC_ALPHABET[a]
            for b in range(_BASE):
                cb = USCC_ALPHABET[b]
                partial = a * w0 + b * w1
                for c in range(_BASE):
                    table.append((ca + cb + USCC_ALPHABET[c], partial + c * w2))
        tables.append(tuple(table))
    return tuple(tables)


@lru_cache(maxsize=4096)
def _prefix_info(region_code: str, authority: str, category: str) -> tuple[str, int]:
    prefix = _check_prefix(region_code, authority, category)
    return prefix, _weighted_sum(prefix)


def make_uscc_from_int(region_code: str, n: int, authority: str = "9", category: str = "1") -> str:
    """Deterministically build a valid code from an integer ``0 <= n < 31**9``.

    Distinct ``n`` (with the same region, authority and category) give distinct codes.
    """
    if not 0 <= n < _BODY_SPACE:
        raise ValueError(f"n must be in [0, 31**9), got {n}")
    prefix, prefix_sum = _prefix_info(region_code, authority, category)
    t0, t1, t2 = _chunk_tables()
    m = (n * _MULT + _ADD) % _BODY_SPACE
    high, rest = divmod(m, _CHUNK * _CHUNK)
    mid, low = divmod(rest, _CHUNK)
    s0, v0 = t0[high]
    s1, v1 = t1[mid]
    s2, v2 = t2[low]
    return prefix + s0 + s1 + s2 + USCC_ALPHABET[(31 - (prefix_sum + v0 + v1 + v2) % 31) % 31]
