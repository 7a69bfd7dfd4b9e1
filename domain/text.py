"""Rules for text that comes in from outside, shared by every boundary (pages, GraphQL, CLI): no control characters,
and search strings of a bounded length.

Control characters (C0 except tab, line feed and carriage return; DEL; C1) have no business in names, codes or
search boxes; PostgreSQL refuses NUL outright and SQLite would store it, so both databases must never see them.
"""

from __future__ import annotations

import re

__all__ = ["CONTROL_CHARACTERS", "SEARCH_MAX_LENGTH", "control_character", "control_character_message",
           "search_too_long_message"]

CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SEARCH_MAX_LENGTH = 100


def control_character(text: str) -> tuple[int, str] | None:
    """The 1-based position and code point (U+XXXX) of the first control character in `text`, or None."""
    bad = CONTROL_CHARACTERS.search(text)
    return (bad.start() + 1, f"U+{ord(bad.group()):04X}") if bad else None


def control_character_message(text: str, label: str, field: str) -> str | None:
    """A message naming the field and where the control character is, or None when `text` is clean.
    `label` is the Chinese name of the field (e.g. "搜索内容" or "参数 q "), `field` its technical name."""
    found = control_character(text)
    if found is None:
        return None
    position, code = found
    return (f"{label}的第 {position} 个字符是不可见的控制字符（{code}），请删除后重试 "
            f"({field}: control character {code} at position {position})")


def search_too_long_message(text: str, label: str, field: str, limit: int = SEARCH_MAX_LENGTH) -> str | None:
    """A message when a search string is longer than `limit`, or None."""
    if len(text) <= limit:
        return None
    return (f"{label}过长：最多 {limit} 个字符，收到 {len(text)} 个 "
            f"({field}: search text longer than {limit} characters)")
