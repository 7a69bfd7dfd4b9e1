"""The dashboard's charts and tables: one description per chart (title, kind, rows, columns, drill-down link) from
which the page draws the ECharts chart, prints the table and writes the Excel sheet — so the three never differ."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from domain.statistics.service import DepartmentDisposal, Group, ModelStatistics, StatsFilter, TrendPoint

__all__ = ["LEVEL_COLOURS", "Chart", "Column", "pct", "warnings_url"]

LEVEL_COLOURS = {"red": "#d32f2f", "orange": "#f57c00", "yellow": "#fbc02d", "blue": "#1976d2"}


def pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    fmt: str = "int"  # int / pct / num / text


@dataclass
class Chart:
    key: str
    title: str
    kind: str  # pie / bar / hbar / line / stacked
    note: str  # how the figure is computed
    columns: list[Column]
    rows: list[dict[str, Any]]  # one per category; "url" opens the matching warnings list
    series: list[str] = field(default_factory=list)  # which columns the chart draws
    category: str = "label"
    opens: str = "对应的预警列表"  # what a click on the figure opens (shown under the chart when rows carry urls)

    def cell(self, row: dict[str, Any], column: Column) -> str:
        value = row.get(column.key)
        if column.fmt == "pct":
            return pct(value)
        if column.fmt == "num":
            return num(value)
        return "—" if value is None else str(value)

    def payload(self) -> dict[str, Any]:
        """What the page's script draws (JSON)."""
        labels = {c.key: c.label for c in self.columns}
        return {"kind": self.kind, "categories": [r[self.category] for r in self.rows],
                "series": [{"name": labels[s], "key": s,
                            "data": [None if r.get(s) is None else
                                     (round(r[s] * 100, 1) if self._is_pct(s) else r[s]) for r in self.rows]}
                           for s in self.series],
                "urls": [r.get("url") for r in self.rows], "colours": [r.get("colour") for r in self.rows],
                "percent": [self._is_pct(s) for s in self.series]}

    def _is_pct(self, key: str) -> bool:
        return any(c.key == key and c.fmt == "pct" for c in self.columns)


def warnings_url(f: StatsFilter, department_codes: dict[int, str] | None = None, **extra: Any) -> str:
    """The warnings list filtered like the figure: the period's dates, the dashboard's filters, and the slice."""
    params: dict[str, Any] = {"created_from": f.period.start.isoformat(), "created_to": f.period.last_day.isoformat()}
    if f.department_id is not None:  # the warnings list filters by department id
        params["department"] = str(f.department_id)
    if f.region_code:
        params["region"] = f.region_code
    if f.industry:
        params["industry"] = f.industry
    params.update({k: v for k, v in extra.items() if v not in (None, "")})
    return "/warnings?" + urlencode(params)


GROUP_COLUMNS = [Column("label", "分组", "text"), Column("warnings", "预警数"), Column("all", "含已撤销"),
                 Column("disposed", "已处置"),
                 Column("disposal_rate", "处理率", "pct"), Column("overdue", "超期"),
                 Column("overdue_rate", "超期率", "pct"), Column("dismissed", "已撤销")]


def group_chart(key: str, title: str, kind: str, note: str, groups: list[Group], f: StatsFilter,
                param: str | None, dept_codes: dict[int, str], *, colour_by_key: dict[str, str] | None = None,
                key_to_param: dict[str, str] | None = None, series: str = "warnings") -> Chart:
    rows = []
    for g in groups:
        value = (key_to_param or {}).get(g.key, g.key)
        url = warnings_url(f, dept_codes, **({param: value} if param and value else {}))
        rows.append({"key": g.key, "label": g.label, "warnings": g.warnings, "all": g.warnings + g.dismissed,
                     "disposed": g.disposed,
                     "disposal_rate": g.disposal_rate, "overdue": g.overdue, "overdue_rate": g.overdue_rate,
                     "dismissed": g.dismissed, "url": url,
                     "colour": (colour_by_key or {}).get(g.key)})
    return Chart(key, title, kind, note, GROUP_COLUMNS, rows, series=[series])


def trend_chart(points: list[TrendPoint], f: StatsFilter, interval: str, dept_codes: dict[int, str]) -> Chart:
    rows = []
    for p in points:
        if interval == "month":
            end = (p.start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        else:
            end = p.start + timedelta(days=6)
        first, last = max(p.start, f.period.start), min(end, f.period.last_day)
        rows.append({"label": p.label, "issued": p.issued, "closed": p.closed, "overdue": p.overdue,
                     "url": warnings_url(f, dept_codes, created_from=first.isoformat(), created_to=last.isoformat())})
    return Chart("trend", "预警趋势（" + ("按月" if interval == "month" else "按周") + "）", "line",
                 "下发按下发日期、办结按办结日期、超期按处置期限到期日期统计（北京时间）。",
                 [Column("label", "时间", "text"), Column("issued", "下发"), Column("closed", "办结"),
                  Column("overdue", "超期")], rows, series=["issued", "closed", "overdue"])


def clue_chart(groups: list[Group], *, links: bool = True) -> Chart:
    """`links=False` for a reader who cannot open the clue list (it needs clues.work): no dead links."""
    rows = [{"label": g.label, "distinct": g.warnings, "duplicates": g.dismissed, "warned": g.disposed,
             "pending": g.open, "url": "/clues?" + urlencode({"source": g.key}) if links else None} for g in groups]
    return Chart("clues", "线索来源", "bar", "期间内接收的线索按来源统计；重复线索并入首条，只计一次。",
                 [Column("label", "来源", "text"), Column("distinct", "线索数（去重）"),
                  Column("duplicates", "重复线索"), Column("warned", "已发布或并入预警"),
                  Column("pending", "待研判")], rows,
                 series=["distinct", "duplicates"], opens="该来源的线索列表")


def disposal_chart(ranking: list[DepartmentDisposal], f: StatsFilter) -> Chart:
    codes = {d.department_id: d.code for d in ranking}
    rows = [{"rank": d.rank, "label": d.name, "code": d.code, "warnings": d.warnings, "disposed": d.disposed,
             "disposal_rate": d.disposal_rate, "overdue": d.overdue, "overdue_rate": d.overdue_rate,
             "receipt_hours": d.median_receipt_hours, "closure_days": d.median_closure_days,
             "returns_requested": d.returns_requested, "returns_rejected": d.returns_rejected,
             "extensions_requested": d.extensions_requested, "extensions_granted": d.extensions_granted,
             "urges": d.urges, "url": warnings_url(f, codes, department=str(d.department_id))} for d in ranking]
    return Chart("disposal", "部门处置情况排名", "bar",
                 "处理率 = 已反馈或已办结 / 下发预警（不含已撤销）；"
                 "超期 = 尚未处置且已过签收或处置期限，或办结晚于处置期限；"
                 "签收、办结用时为自下发起的中位数。"
                 "按处理率从高到低、超期率从低到高排名，并列同名次。",
                 [Column("rank", "排名"), Column("label", "部门", "text"), Column("warnings", "预警数"),
                  Column("disposal_rate", "处理率", "pct"), Column("overdue_rate", "超期率", "pct"),
                  Column("receipt_hours", "签收用时中位数（小时）", "num"),
                  Column("closure_days", "办结用时中位数（天）", "num"),
                  Column("returns_requested", "申请退回"), Column("returns_rejected", "退回被驳回"),
                  Column("extensions_requested", "申请延期"), Column("extensions_granted", "延期获批"),
                  Column("urges", "督办")], rows, series=["disposal_rate", "overdue_rate"])


def model_charts(model: ModelStatistics, f: StatsFilter, *, model_links: bool = True) -> list[Chart]:
    """`model_links=False` for a reader who cannot open the model pages (models.read); the score bins open the
    risk list (研判, /analysis), which every statistics reader may open in their scope."""
    precision = Chart(
        "precision", "各等级预警准确率（来自处置反馈）", "bar",
        "期间内预警的主办部门反馈（每条取最后一轮）：风险属实或部分属实 / 有核查结果的反馈。",
        [Column("label", "等级", "text"), Column("rated", "有核查结果"), Column("confirmed", "属实"),
         Column("partly", "部分属实"), Column("false_alarm", "不实"), Column("precision", "准确率", "pct")],
        [{"label": p.label, "rated": p.rated, "confirmed": p.confirmed, "partly": p.partly,
          "false_alarm": p.false_alarm, "precision": p.precision, "colour": LEVEL_COLOURS.get(p.level),
          "url": warnings_url(f, None, level=p.level, status="closed")} for p in model.precision],
        series=["precision"])
    scores = Chart(
        "scores", "冠军模型最近一次评分的分布", "bar",
        "最近一次冠军模型评分运行中各分数段的监管对象数（每段 0.05）。",
        [Column("label", "分数段", "text"), Column("entities", "监管对象数")],
        [{"label": f"{lo:.2f}–{hi:.2f}", "entities": n,
          "url": "/analysis?" + urlencode({"score_min": f"{lo:.2f}", "score_max": f"{hi:.2f}"})}
         for lo, hi, n in model.score_bins], series=["entities"], opens="该分数段的监管对象（研判列表）")
    runs = Chart(
        "runs", "冠军与挑战者模型（最近一次评分）", "stacked",
        "两者在最近一次评分运行中各等级的监管对象数与平均分；挑战者为影子运行，不发布预警。",
        [Column("label", "模型", "text"), Column("as_of", "评分日期", "text"), Column("entities", "监管对象"),
         Column("mean", "平均分", "num"), Column("red", "红色"), Column("orange", "橙色"), Column("yellow", "黄色"),
         Column("blue", "蓝色")],
        [{"label": f"{'冠军' if r.alias == 'champion' else '挑战者'} v{r.version}", "as_of": r.as_of.isoformat(),
          "entities": r.entities, "mean": r.mean_score, **{lv: int(r.level_counts.get(lv, 0)) for lv in LEVEL_COLOURS},
          "url": f"/models/{r.version_id}" if model_links else None} for r in model.runs],
        series=["red", "orange", "yellow", "blue"], opens="该模型版本")
    if not any(p.rated for p in model.precision):  # no feedback yet: say so instead of drawing empty bars
        precision.rows = []
    return [precision, scores, runs]
