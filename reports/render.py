"""The analysis report as a DOCX document (python-docx) and a printable HTML page, from one outline.

`outline(data)` turns the gathered figures into sections (paragraphs, tables, charts); both renderers walk the
same outline, so the Word file and the web page always say the same thing.
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass, field
from typing import Any

from domain.evaluation.defaults import METRICS
from domain.reports.data import ReportData
from reports.charts import LEVEL_COLOURS, bar_chart, line_chart

__all__ = ["Block", "Section", "outline", "render_docx", "render_html"]

NO_DATA = "暂无数据"
SECTION_TITLES = ("一、期间概况", "二、风险预警情况", "三、预警处置情况", "四、部门监管效能评价",
                  "五、监管行为分析发现", "六、风险模型表现", "七、工作建议")


def pct(value: float | None) -> str:
    return NO_DATA if value is None else f"{value * 100:.1f}%"


def num(value: float | None, digits: int = 1) -> str:
    return NO_DATA if value is None else f"{value:.{digits}f}"


@dataclass
class Block:
    kind: str  # paragraph / table / image / bullets
    text: str = ""
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    png: bytes = b""
    items: list[str] = field(default_factory=list)


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def p(self, text: str) -> None:
        self.blocks.append(Block("paragraph", text=text))

    def table(self, headers: list[str], rows: list[list[Any]]) -> None:
        self.blocks.append(Block("table", headers=headers, rows=[[str(c) for c in r] for r in rows]))

    def image(self, caption: str, png: bytes) -> None:
        self.blocks.append(Block("image", text=caption, png=png))

    def bullets(self, items: list[str]) -> None:
        self.blocks.append(Block("bullets", items=items))


def outline(data: ReportData) -> list[Section]:
    a = data.analysis
    totals = a.totals()
    m = totals.metrics()
    s1, s2, s3, s4, s5, s6, s7 = (Section(t) for t in SECTION_TITLES)

    s1.p(f"本报告统计期间为{data.period.label}（{data.period.start:%Y年%m月%d日}至{data.period.last_day:%Y年%m月%d日}），"
         f"涉及 {len(a.departments)} 个监管部门。期间共采集监管行为 {a.collected} 条，纳入分析 {a.used} 条，"
         f"数据纳入分析率 {pct(a.data_coverage)}，市级部门监管行为覆盖率 {pct(a.city_level_coverage)}。")
    s1.table(["指标", "数值"], [
        ["监管事项覆盖率", pct(m["item_coverage"])], ["全过程留痕率", pct(m["trace_completeness"])],
        ["检查结果及时率", pct(m["inspection_timeliness"])], ["处罚决定及时率", pct(m["penalty_timeliness"])],
        ["双随机抽查占比", pct(m["random_share"])], ["检查问题发现率", pct(m["problem_rate"])],
        ["处罚后跟踪检查率", pct(m["follow_up_rate"])],
        ["投诉举报按期答复率", pct(a.city.complaint_timeliness)],
        ["数据纳入分析率", pct(a.data_coverage)]])
    covered = [(d.name, d.metrics()["item_coverage"]) for d in a.departments]
    covered = [(name, value) for name, value in covered if value is not None]  # no catalogue items: no bar, not 0 %
    if covered:
        s1.image("图1 各部门监管事项覆盖率", bar_chart(
            "各部门监管事项覆盖率", [name for name, _ in covered], [value for _, value in covered],
            horizontal=True, percent=True))

    w = data.warnings
    if w is None:
        s2.p(f"风险预警：{data.unavailable}。")
    else:
        s2.p(f"期间共发布风险预警 {w['total']} 条。" + "；".join(f"{k} {v} 条" for k, v in w["by_level"]) + "。")
        s2.table(["预警等级", "数量"], [[k, v] for k, v in w["by_level"]])
        if w["total"]:
            s2.image("图2 预警等级分布", bar_chart("预警等级分布", [k for k, _ in w["by_level"]],
                                           [v for _, v in w["by_level"]],
                                           colours=[LEVEL_COLOURS.get(k[:2], "#607d8b") for k, _ in w["by_level"]]))
            s2.table(["责任部门", "预警数"], [[k, v] for k, v in w["by_department"]])
            s2.table(["行政区划", "预警数"], [[k, v] for k, v in w["by_district"]])
            s2.table(["行业", "预警数"], [[k, v] for k, v in w["by_industry"]])
            if w["trend"]:
                s2.image("图3 预警数量月度趋势", line_chart("预警数量月度趋势", [k for k, _ in w["trend"]],
                                                    {"预警数": [v for _, v in w["trend"]]}, unit="条"))

    if not a.disposal_available or totals.disposal is None:
        s3.p(f"预警处置：{data.unavailable}。")
    else:
        d = totals.disposal
        s3.p(f"期间下发（不含撤销）预警 {d.warnings} 条，已处置 {d.disposed} 条，预警处理率 {pct(d.disposal_rate)}"
             f"（目标 ≥90%）；超期 {d.overdue} 条，超期率 {pct(d.overdue_rate)}；收到满意度评价 {d.rated} 条，"
             f"满意率 {pct(d.satisfaction_rate)}（目标 ≥80%），平均满意度 {num(d.satisfaction_avg)} 分（满分 5 分）。")
        s3.table(["部门", "预警数", "已处置", "处理率", "超期", "超期率", "满意率"], [
            [x.name, x.disposal.warnings, x.disposal.disposed, pct(x.disposal.disposal_rate), x.disposal.overdue,
             pct(x.disposal.overdue_rate), pct(x.disposal.satisfaction_rate)]
            for x in a.departments if x.disposal is not None and x.disposal.warnings])

    ev = data.evaluation
    if ev is None:
        s4.p("本期尚未开展效能评价。")
    else:
        s4.p(f"采用“{ev.indicator_set.set.name}”（第 {ev.indicator_set.set.version} 版，"
             f"{len(ev.indicator_set.indicators)} 项指标，权重合计 100）对 {len(ev.results)} 个部门进行评价。")
        s4.table(["排名", "部门", "总分", "等级", "上期总分", "变化"], [
            [r.result.rank or "—", r.department_name, num(r.result.total, 2), r.result.grade,
             num(r.result.previous_total, 2) if r.result.previous_total is not None else "—",
             f"{r.change:+.2f}" if r.change is not None else "—"] for r in ev.results])
        scored = [r for r in ev.results if r.result.total is not None]
        if scored:
            s4.image("图4 部门效能评价总分", bar_chart("部门效能评价总分", [r.department_name for r in scored],
                                             [r.result.total or 0 for r in scored], horizontal=True, unit="分"))
        s4.table(["指标", "权重", "目标值", "下限值", "方向", "计分规则"], [
            [METRICS.get(i.metric, (i.metric,))[0], f"{i.weight:g}", f"{i.target:g}", f"{i.floor:g}",
             "越高越好" if i.direction == "higher" else "越低越好", "线性" if i.rule == "linear" else "分段"]
            for i in ev.indicator_set.indicators])

    s5.table(["部门", "事项覆盖率", "留痕率", "检查及时率", "处罚及时率", "双随机占比", "问题发现率", "跟踪检查率"], [
        [d.name, pct(dm["item_coverage"]), pct(dm["trace_completeness"]), pct(dm["inspection_timeliness"]),
         pct(dm["penalty_timeliness"]), pct(dm["random_share"]), pct(dm["problem_rate"]), pct(dm["follow_up_rate"])]
        for d, dm in ((d, d.metrics()) for d in a.departments)])
    for kind, finding in data.findings.items():
        s5.p(f"{finding['label']}：共 {finding['total']} 条" + ("，前 20 条如下。" if finding["total"] > 20 else "。"))
        if finding["rows"]:
            if kind == "never_exercised":
                s5.table(["部门", "事项编码", "事项名称"], [[r.department_name, r.item_code, r.item_name]
                                                     for r in finding["rows"]])
            else:
                s5.table(["部门", "行为编号", "监管对象", "开始日期", "说明"], [
                    [r.department_name, r.external_id, r.entity_name, r.started_on, r.detail] for r in finding["rows"]])

    model = data.model
    if model is None:
        s6.p("尚未启用冠军模型，暂无模型表现数据。")
    else:
        s6.p(f"当前冠军模型为 {model['model_name']} 第 {model['version_id']} 版（{model['features']} 个特征）。"
             f"验证集 ROC-AUC {num(model['roc_auc'], 3)}，PR-AUC {num(model['pr_auc'], 3)}，"
             f"Brier 分数 {num(model['brier_score'], 4)}；"
             f"基线（逻辑回归）ROC-AUC {num(model['baseline_roc_auc'], 3)}。")

    s7.bullets(data.recommendations)
    return _number_figures([s1, s2, s3, s4, s5, s6, s7])


def _number_figures(sections: list[Section]) -> list[Section]:
    """Figures numbered in the order they appear: a figure left out (no warnings, no evaluation) leaves no gap."""
    n = 0
    for section in sections:
        for block in section.blocks:
            if block.kind == "image":
                n += 1
                block.text = re.sub(r"^图\d+ ", f"图{n} ", block.text)
    return sections


# ---- DOCX ----------------------------------------------------------------------------------------------------

def _east_asian(run: Any, font: str = "宋体") -> None:
    from docx.oxml.ns import qn

    run.font.name = font
    r_pr = run._element.get_or_add_rPr()
    r_pr.get_or_add_rFonts().set(qn("w:eastAsia"), font)


def render_docx(data: ReportData, sections: list[Section], *, generated_by: str) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "宋体"
    normal.font.size = Pt(11)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    doc.core_properties.title = data.title
    doc.core_properties.author = generated_by

    for _ in range(6):
        doc.add_paragraph()
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(data.title)
    run.bold, run.font.size = True, Pt(22)
    _east_asian(run, "黑体")
    for text in (f"统计期间：{data.period.label}", "苏州市互联网+监管 风险预警与分析评价系统",
                 f"生成日期：{data.generated_on:%Y年%m月%d日}", f"生成人：{generated_by}"):
        para = doc.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _east_asian(para.add_run(text))
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    for section in sections:
        heading = doc.add_heading(section.title, level=1)
        for r in heading.runs:
            _east_asian(r, "黑体")
        for block in section.blocks:
            if block.kind == "paragraph":
                doc.add_paragraph(block.text)
            elif block.kind == "bullets":
                for item in block.items:
                    doc.add_paragraph(item, style="List Bullet")
            elif block.kind == "table":
                table = doc.add_table(rows=1, cols=len(block.headers))
                table.style = "Table Grid"
                for cell, text in zip(table.rows[0].cells, block.headers, strict=True):
                    cell.text = text
                    for r in cell.paragraphs[0].runs:
                        r.bold = True
                for row in block.rows:
                    for cell, text in zip(table.add_row().cells, row, strict=True):
                        cell.text = text
                doc.add_paragraph()
            elif block.kind == "image":
                doc.add_picture(io.BytesIO(block.png), width=Cm(15))
                caption = doc.add_paragraph(block.text)
                caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# ---- HTML ----------------------------------------------------------------------------------------------------

_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif;max-width:960px;margin:2rem auto;
color:#222;line-height:1.6;padding:0 1rem}
.cover{text-align:center;padding:6rem 0;page-break-after:always;border-bottom:1px solid #ddd;margin-bottom:2rem}
.cover h1{font-size:2rem;margin-bottom:2rem}
h2{border-left:4px solid #1565c0;padding-left:.5rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left}th{background:#e3ecf7}
figure{text-align:center;margin:1rem 0}figure img{max-width:min(100%,680px)}figcaption{font-size:.9rem;color:#555}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}table,figure{page-break-inside:avoid}
.no-print{display:none}}
"""


def render_html(data: ReportData, sections: list[Section], *, generated_by: str) -> str:
    e = html.escape
    parts = [f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{e(data.title)}</title>"
             f"<style>{_CSS}</style></head><body>",
             "<div class=\"cover\">"
             f"<h1>{e(data.title)}</h1><p>统计期间：{e(data.period.label)}</p>"
             "<p>苏州市互联网+监管 风险预警与分析评价系统</p>"
             f"<p>生成日期：{data.generated_on:%Y年%m月%d日}　生成人：{e(generated_by)}</p></div>"]
    for section in sections:
        parts.append(f"<section><h2>{e(section.title)}</h2>")
        for block in section.blocks:
            if block.kind == "paragraph":
                parts.append(f"<p>{e(block.text)}</p>")
            elif block.kind == "bullets":
                parts.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in block.items) + "</ul>")
            elif block.kind == "table":
                head = "".join(f"<th>{e(h)}</th>" for h in block.headers)
                body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in block.rows)
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            elif block.kind == "image":
                src = base64.b64encode(block.png).decode("ascii")
                parts.append(f"<figure><img alt=\"{e(block.text)}\" src=\"data:image/png;base64,{src}\">"
                             f"<figcaption>{e(block.text)}</figcaption></figure>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts)
