"""Report charts as PNG, drawn with matplotlib (Agg) in a CJK font found on this machine at run time.

Chinese must render: the font is looked up once (Noto Sans CJK from Debian's fonts-noto-cjk, or another CJK
font fontconfig knows); when none is installed the report fails with a clear message instead of drawing boxes.
Every chart is checked: any "missing glyph" warning from matplotlib turns into an error.
"""

from __future__ import annotations

import functools
import glob
import io
import shutil
import subprocess
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

__all__ = ["ChartError", "bar_chart", "cjk_font_path", "font_has_glyphs", "line_chart", "radar_chart"]

_LOCK = threading.Lock()  # pyplot's state is global; one chart at a time
_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
PALETTE = ["#1565c0", "#f47b20", "#2e7d32", "#c62828", "#6a1b9a", "#00838f", "#9e9d24", "#5d4037"]
LEVEL_COLOURS = {"红色": "#d32f2f", "橙色": "#f57c00", "黄色": "#fbc02d", "蓝色": "#1976d2"}


class ChartError(RuntimeError):
    pass


@functools.cache
def cjk_font_path() -> str:
    """The path of a font with Chinese glyphs, or a ChartError that says how to install one."""
    for path in _CANDIDATES:
        if Path(path).exists():
            return path
    if shutil.which("fc-list"):
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=20).stdout
        files = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())
        if files:
            return files[0]
    found = sorted(glob.glob("/usr/share/fonts/**/*CJK*", recursive=True))
    if found:
        return found[0]
    raise ChartError("未找到中文字体，无法生成报告图表：请安装 CJK 字体"
                     "（Debian/Ubuntu：apt-get install fonts-noto-cjk） (no CJK font found; install fonts-noto-cjk)")


@functools.cache
def _font_family() -> str:
    from matplotlib import font_manager

    path = cjk_font_path()
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


def font_has_glyphs(text: str, path: str | None = None) -> list[str]:
    """The characters of `text` the font has no glyph for (fontTools, every face of a collection)."""
    from fontTools.ttLib import TTCollection, TTFont

    path = path or cjk_font_path()
    fonts = TTCollection(path).fonts if path.lower().endswith(".ttc") else [TTFont(path)]
    cmap: set[int] = set()
    for font in fonts[:1]:
        cmap.update(font.getBestCmap() or {})
    return sorted({ch for ch in text if not ch.isspace() and ord(ch) not in cmap})


def _figure(width: float = 7.0, height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = [_font_family()]
    plt.rcParams["axes.unicode_minus"] = False
    fig, ax = plt.subplots(figsize=(width, height), dpi=150)
    return plt, fig, ax


def _png(plt, fig) -> bytes:
    out = io.BytesIO()
    fig.tight_layout()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


def _checked(draw):
    """Run a drawing under the lock; a missing-glyph warning from matplotlib becomes a ChartError."""
    @functools.wraps(draw)
    def run(*args, **kwargs) -> bytes:
        with _LOCK, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            png = draw(*args, **kwargs)
        missing = [str(w.message) for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]
        if missing:
            raise ChartError(f"图表中有字体缺少的字符：{missing[0]}")
        return png
    return run


@_checked
def bar_chart(title: str, labels: Sequence[str], values: Sequence[float], *, horizontal: bool = False,
              unit: str = "", colours: Sequence[str] | None = None, percent: bool = False) -> bytes:
    plt, fig, ax = _figure(7.0, max(3.0, 0.38 * len(labels) + 1.2) if horizontal else 3.6)
    shown = [v * 100 for v in values] if percent else list(values)
    colours = list(colours) if colours else [PALETTE[0]] * len(labels)
    if horizontal:
        bars = ax.barh(list(labels)[::-1], shown[::-1], color=colours[::-1])
    else:
        bars = ax.bar(list(labels), shown, color=colours)
    ax.bar_label(bars, fmt="%.1f%%" if percent else "%g", fontsize=8, padding=2)
    if percent:
        (ax.set_xlim if horizontal else ax.set_ylim)(0, 110)
    ax.set_title(title, fontsize=12)
    if unit:
        (ax.set_xlabel if horizontal else ax.set_ylabel)(unit)
    ax.spines[["top", "right"]].set_visible(False)
    if not horizontal and len(labels) > 5:
        ax.tick_params(axis="x", labelrotation=30)
    return _png(plt, fig)


@_checked
def line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float]], *, unit: str = "") -> bytes:
    plt, fig, ax = _figure()
    for n, (name, values) in enumerate(series.items()):
        ax.plot(list(labels), list(values), marker="o", color=PALETTE[n % len(PALETTE)], label=name)
    ax.set_title(title, fontsize=12)
    if unit:
        ax.set_ylabel(unit)
    if len(series) > 1:
        ax.legend(fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#eeeeee")
    return _png(plt, fig)


@_checked
def radar_chart(title: str, axes: Sequence[str], series: dict[str, Sequence[float]]) -> bytes:
    import numpy as np

    plt, fig, _ = _figure(5.0, 5.0)
    fig.clf()
    ax = fig.add_subplot(111, polar=True)
    angles = np.linspace(0, 2 * np.pi, len(axes), endpoint=False).tolist()
    for n, (name, values) in enumerate(series.items()):
        vals = [*values, values[0]]
        ax.plot(angles + angles[:1], vals, color=PALETTE[n % len(PALETTE)], label=name)
        ax.fill(angles + angles[:1], vals, color=PALETTE[n % len(PALETTE)], alpha=0.15)
    ax.set_xticks(angles)
    ax.set_xticklabels(list(axes), fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_title(title, fontsize=12)
    ax.legend(fontsize=8, loc="lower right")
    return _png(plt, fig)
