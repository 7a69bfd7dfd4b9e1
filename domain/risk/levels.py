"""The warning-level vocabulary (预警等级), defined once: codes, Chinese names, roman grades, order.

Highest first: 红色 red (I), 橙色 orange (II), 黄色 yellow (III), 蓝色 blue (IV). Everything else — the risk
models, scoring, rules, warnings, pages, GraphQL and settings — imports these names rather than spelling them.
Colours for the pages live with the web layer (`web/risk/charts.py`), not here.
"""

from __future__ import annotations

__all__ = ["LEVELS", "LEVEL_LABELS", "LEVEL_RANK", "LEVEL_ROMAN", "level_label", "level_of_rank"]

LEVELS: tuple[str, ...] = ("red", "orange", "yellow", "blue")
LEVEL_LABELS: dict[str, str] = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
LEVEL_ROMAN: dict[str, str] = {"red": "I", "orange": "II", "yellow": "III", "blue": "IV"}
# 0 = below blue (no level); 1 blue (IV) … 4 red (I): a higher rank is a more serious level.
LEVEL_RANK: dict[str | None, int] = {None: 0, **{level: len(LEVELS) - i for i, level in enumerate(LEVELS)}}
_RANK_LEVEL: tuple[str | None, ...] = (None, *reversed(LEVELS))


def level_label(level: str | None) -> str:
    """The Chinese name of a level code ("—" for none, the code itself if unknown)."""
    if not level:
        return "—"
    return LEVEL_LABELS.get(level, level)


def level_of_rank(rank: int) -> str | None:
    """The level code of a rank (0 → None)."""
    return _RANK_LEVEL[int(rank)]
