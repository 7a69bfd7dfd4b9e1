"""Statistics pages (风险统计展示): the dashboard with drill-down charts, their tables and Excel export, and the
performance-goal panel (绩效目标)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from openpyxl import Workbook
from openpyxl.styles import Font
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.errors import InvalidInput
from domain.identity.actor import Actor
from domain.identity.policy import can
from domain.statistics import goals as goal_service
from domain.statistics import service
from domain.types import local_today
from web.common import actor_of, read
from web.errors import http_status
from web.statistics.charts import (
    LEVEL_COLOURS,
    Chart,
    clue_chart,
    disposal_chart,
    group_chart,
    model_charts,
    trend_chart,
)
from web.templating import render

__all__ = ["routes"]

GOAL_EVIDENCE = {"behaviour": ("/behaviour", "监管行为分析"), "warnings": ("/warnings", "预警列表"),
                 "statistics": ("/statistics", "统计看板"), "sources": ("/sources", "数据源与集成状态"),
                 "reports": ("/reports", "分析报告"), "models": ("/models", "风险模型")}
# what opening each evidence page takes (the navigation's permissions); a link the reader cannot open is left out
EVIDENCE_PERMISSIONS = {"behaviour": ("evaluations.read", "statistics.read", "warnings.handle"),
                        "warnings": ("warnings.work", "warnings.handle", "statistics.read"),
                        "statistics": ("statistics.read",), "sources": (), "reports": ("reports.read",),
                        "models": ("models.read",)}
STATUS_COLOURS = {"met": "success", "not_met": "danger", "in_progress": "warning", "unavailable": "secondary"}
TREND_SIGNS = {"up": "↑", "down": "↓", "flat": "→"}


def _evidence_for(actor: Actor) -> dict[str, tuple[str, str]]:
    return {key: link for key, link in GOAL_EVIDENCE.items()
            if not EVIDENCE_PERMISSIONS.get(key) or any(can(actor, p) for p in EVIDENCE_PERMISSIONS[key])}


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {"period": (q.get("period") or "").strip() or str(local_today().year),
            "department_code": (q.get("department") or "").strip() or None,
            "region_code": (q.get("region") or "").strip() or None,
            "industry": (q.get("industry") or "").strip() or None}


def period_choices(today: date | None = None) -> list[tuple[str, str]]:
    """Periods offered in the picker: this and last year, their halves and quarters, the last twelve months."""
    from domain.analysis.periods import parse_period

    today = today or local_today()
    codes: list[str] = []
    for year in (today.year, today.year - 1):
        codes += [f"{year}", f"{year}H1", f"{year}H2", *(f"{year}Q{q}" for q in range(1, 5))]
    month = today.replace(day=1)
    for _ in range(12):
        codes.append(f"{month.year}-{month.month:02d}")
        month = (month.replace(day=1) - date.resolution).replace(day=1)
    return [(c, parse_period(c).label) for c in codes]


def charts_of(d: service.Dashboard, actor: Actor) -> list[Chart]:
    """The dashboard's charts; drill-down links only to pages the reader may open (a handler has no clue list,
    risk list or model pages)."""
    f, codes = d.filter, d.department_codes
    groups = d.groups
    return [
        group_chart("level", "预警等级分布", "pie", "期间内下发的预警按等级统计（不含已撤销）。",
                    groups["level"], f, "level", codes, colour_by_key=LEVEL_COLOURS),
        group_chart("status", "处置状态", "bar", "期间内下发的预警的当前状态；“已撤销”单独计数。",
                    groups["status"], f, "status", codes, series="all"),
        group_chart("department", "各责任部门预警数", "hbar", "按预警的责任部门统计。",
                    groups["department"], f, "department", codes),
        group_chart("district", "各行政区划预警数", "bar", "按监管对象登记的行政区划（县级）统计。",
                    groups["district"], f, "region", codes),
        group_chart("industry", "各行业门类预警数", "hbar", "按监管对象所属国民经济行业（GB/T 4754）门类统计。",
                    groups["industry"], f, "industry", codes),
        group_chart("source", "预警来源", "pie", "模型评分、预警规则、风险线索或人工发布。",
                    groups["source"], f, "source", codes),
        trend_chart(d.trend, f, d.interval, codes),
        clue_chart(d.clues, links=can(actor, "clues.work")),
        disposal_chart(d.disposal, f),
        *model_charts(d.model, f, model_links=can(actor, "models.read")),
    ]


async def dashboard(request: Request) -> Response:
    filters = _filters(request)
    interval = request.query_params.get("interval") or "month"
    error: str | None = None
    try:
        d = await read(request, service.dashboard, **filters, interval=interval)
    except InvalidInput as exc:  # a bad filter: say which, and show the default view under it
        error = exc.message
        d = await read(request, service.dashboard, interval="month")
    charts = charts_of(d, actor_of(request))
    query = {k: v for k, v in request.query_params.items() if v}
    return render(request, "statistics/dashboard.html", {
        "active": "statistics", "page_title": "统计看板", "d": d, "charts": charts, "error": error,
        "chart_data": {c.key: c.payload() for c in charts}, "filters": filters, "interval": d.interval,
        "periods": period_choices(), "query": urlencode(query), "totals": d.totals,
        "pct": _pct}, status_code=400 if error else 200)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def workbook(charts: list[Chart], title: str) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for chart in charts:
        ws = wb.create_sheet(chart.title[:31].replace("/", "／"))
        ws.append([title])
        ws.append([chart.note])
        ws.append([c.label for c in chart.columns])
        for cell in ws[3]:
            cell.font = Font(bold=True)
        for row in chart.rows:
            values: list[Any] = []
            for c in chart.columns:
                v = row.get(c.key)
                values.append(round(v, 4) if isinstance(v, float) else v)
            ws.append(values)
        for i, c in enumerate(chart.columns, start=1):
            ws.column_dimensions[ws.cell(row=3, column=i).column_letter].width = max(10, len(c.label) * 2 + 2)
            if c.fmt == "pct":
                for cells in ws.iter_rows(min_row=4, min_col=i, max_col=i):
                    for cell in cells:
                        cell.number_format = "0.0%"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def export(request: Request) -> Response:
    """The dashboard's tables as an .xlsx workbook: every chart, or the one named in ?chart=."""
    filters = _filters(request)
    interval = request.query_params.get("interval") or "month"
    try:
        d = await read(request, service.dashboard, **filters, interval=interval)
    except InvalidInput as exc:
        return Response(exc.message, status_code=http_status(exc), media_type="text/plain; charset=utf-8")
    charts = charts_of(d, actor_of(request))
    key = request.query_params.get("chart")
    if key:
        charts = [c for c in charts if c.key == key]
        if not charts:
            return Response(f"图表“{key}”不存在", status_code=404, media_type="text/plain; charset=utf-8")
    title = f"风险统计（{d.filter.period.label}）"
    data = workbook(charts, title)
    name = f"风险统计-{d.filter.period.code}{'-' + key if key else ''}.xlsx"
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=\"statistics.xlsx\"; "
                                                    f"filename*=UTF-8''{quote(name)}"})


async def goals_page(request: Request) -> Response:
    period = (request.query_params.get("period") or "").strip() or str(local_today().year)
    error = None
    try:
        goals = await read(request, goal_service.performance_goals, period)
    except InvalidInput as exc:
        error = exc.message
        period = str(local_today().year)
        goals = await read(request, goal_service.performance_goals, period)
    from domain.analysis.periods import parse_period

    return render(request, "statistics/goals.html", {
        "active": "statistics", "page_title": "绩效目标", "goals": goals, "period": parse_period(period),
        "periods": period_choices(), "error": error, "evidence": _evidence_for(actor_of(request)),
        "status_colours": STATUS_COLOURS,
        "trend_signs": TREND_SIGNS}, status_code=400 if error else 200)


routes = [
    Route("/statistics", dashboard, methods=["GET"]),
    Route("/statistics/export.xlsx", export, methods=["GET"]),
    Route("/statistics/goals", goals_page, methods=["GET"]),
]
