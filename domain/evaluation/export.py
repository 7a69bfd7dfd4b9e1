"""An evaluation run as an Excel workbook (.xlsx): the ranking with every indicator's value and score."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from domain.evaluation.defaults import METRICS
from domain.evaluation.service import RunView
from domain.types import LOCAL_TZ

__all__ = ["run_to_xlsx"]


def _pct(value: float | None, unit: str) -> float | str:
    if value is None:
        return "无数据"
    return round(value * 100, 2) if unit == "ratio" else round(value, 2)


def run_to_xlsx(view: RunView) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "评价排名"
    run, iset = view.run, view.indicator_set
    ws.append([f"监管效能评价 {run.period}（指标体系：{iset.set.name} 第 {iset.set.version} 版）"])
    ws.append([f"生成时间：{run.created_at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}，操作人：{run.created_by_name}"])
    ws.append([])
    header = ["排名", "部门编码", "部门名称", "总分", "等级", "上期总分", "上期排名", "变化"]
    for ind in iset.indicators:
        label, unit, _ = METRICS.get(ind.metric, (ind.metric, "ratio", "higher"))
        header += [f"{label}{'（%）' if unit == 'ratio' else '（天）'}", f"{label}得分（满分 {ind.weight:g}）"]
    ws.append(header)
    for cell in ws[4]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for r in view.results:
        res = r.result
        row: list[object] = [res.rank if res.rank is not None else "—", r.department_code, r.department_name,
                             res.total if res.total is not None else "无数据", res.grade,
                             res.previous_total if res.previous_total is not None else "—",
                             res.previous_rank if res.previous_rank is not None else "—",
                             r.change if r.change is not None else "—"]
        for ind in iset.indicators:
            unit = METRICS.get(ind.metric, ("", "ratio", ""))[1]
            score = res.scores.get(ind.metric)
            row += [_pct(res.metric_values.get(ind.metric), unit), round(score, 2) if score is not None else "无数据"]
        ws.append(row)
    for n in range(1, len(header) + 1):
        ws.column_dimensions[get_column_letter(n)].width = 14 if n != 3 else 28
    ws.freeze_panes = "D5"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
