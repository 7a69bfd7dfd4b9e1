"""Analysis-evaluation pages: behaviour analysis (department list → scorecard → findings → records), evaluation
(ranking, department scorecard with radar chart, two-period comparison, Excel export), reports (archive, generate,
download)."""

from __future__ import annotations

from urllib.parse import quote

import anyio
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from domain.analysis.behaviour import analyse_behaviour
from domain.analysis.disposal import DISPOSAL_UNAVAILABLE
from domain.analysis.findings import FINDING_KINDS, list_findings
from domain.analysis.periods import PERIOD_HELP, Period, last_closed_half_year, parse_period
from domain.analysis.rules import FIELD_LABELS, TRIGGER_LABELS
from domain.errors import InvalidInput, NotFound
from domain.evaluation import service as evaluation
from domain.evaluation.defaults import METRICS
from domain.evaluation.export import run_to_xlsx
from domain.evaluation.models import EvaluationRun
from domain.identity.actor import Actor
from domain.identity.policy import can
from domain.reports.service import get_report, list_reports, report_file, start_report_job
from domain.supervision.fields import ACTION_KIND_LABELS
from web.common import actor_of, read, redirect_after_post, run
from web.templating import render

__all__ = ["routes"]

REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


def _period_text(request: Request) -> str:
    return request.query_params.get("period", "").strip() or last_closed_half_year().code


def _common(request: Request, active: str, title: str) -> dict:
    return {"active": active, "page_title": title, "period_help": PERIOD_HELP, "metrics": METRICS,
            "finding_kinds": FINDING_KINDS, "unavailable": DISPOSAL_UNAVAILABLE,
            "can_manage": can(actor_of(request), "evaluations.manage") if actor_of(request).is_authenticated else False}


async def behaviour_list(request: Request) -> Response:
    period = parse_period(_period_text(request))
    analysis = await read(request, analyse_behaviour, period)
    return render(request, "analysis/behaviour.html", {**_common(request, "behaviour", "监管行为分析"),
                                                        "period": period, "analysis": analysis,
                                                        "totals": analysis.totals()})


async def behaviour_department(request: Request) -> Response:
    period = parse_period(_period_text(request))
    code = request.path_params["code"]
    analysis = await read(request, analyse_behaviour, period, code)
    dept = analysis.departments[0]
    return render(request, "analysis/scorecard.html", {**_common(request, "behaviour", f"{dept.name} 监管行为"),
                                                        "period": period, "analysis": analysis, "d": dept,
                                                        "m": dept.metrics(), "trigger_labels": TRIGGER_LABELS})


async def findings(request: Request) -> Response:
    q = request.query_params
    period = parse_period(_period_text(request))
    kind = q.get("kind", "missing_trace")
    department = q.get("department") or None
    text = q.get("page", "1")
    number = int(text) if text.isdigit() and int(text) > 0 else 1
    size = 50
    page = await read(request, list_findings, period, kind, department, limit=size, offset=(number - 1) * size)
    pages = max(1, -(-page.total // size))
    base = f"/behaviour/findings?period={quote(period.code)}&kind={kind}" + (
        f"&department={quote(department)}" if department else "")
    return render(request, "analysis/findings.html", {
        **_common(request, "behaviour", page.label), "period": period, "page": page, "kind": kind,
        "department": department, "number": number, "pages": pages, "base": base,
        "kind_labels": ACTION_KIND_LABELS, "field_labels": FIELD_LABELS})


# ---- evaluation ----------------------------------------------------------------------------------------------

def _evaluations_data(session: Session, actor: Actor,
                      period: Period) -> tuple[evaluation.RunView | None, list[EvaluationRun]]:
    """The period's latest evaluation and the list of runs, in one unit of work."""
    return evaluation.latest_run(session, actor, period), evaluation.list_runs(session, actor, None)


async def evaluation_list(request: Request) -> Response:
    period = parse_period(_period_text(request))
    view, runs = await read(request, _evaluations_data, period)
    return render(request, "analysis/evaluations.html", {**_common(request, "evaluations", "监管效能评价"),
                                                          "period": period, "view": view, "runs": runs})


async def evaluation_run(request: Request) -> Response:
    form = await request.form()
    period = parse_period(str(form.get("period", "")))
    view = await run(request, evaluation.run_evaluation, period)
    return redirect_after_post(request, f"/evaluations/runs/{view.run.id}",
                               message=f"已完成 {period.label} 的效能评价（{len(view.results)} 个部门）。")


async def evaluation_detail(request: Request) -> Response:
    view = await read(request, evaluation.get_run, request.path_params["run_id"])
    title = f"效能评价 {view.run.period}"
    return render(request, "analysis/evaluations.html", {**_common(request, "evaluations", title),
                                                          "period": parse_period(view.run.period), "view": view,
                                                          "runs": []})


async def evaluation_scorecard(request: Request) -> Response:
    view = await read(request, evaluation.get_run, request.path_params["run_id"])
    code = request.path_params["code"]
    row = next((r for r in view.results if r.department_code == code), None)
    if row is None:
        raise NotFound(f"部门“{code}”不在该次评价中或不在您的查看范围内")
    inds = view.indicator_set.indicators
    # an indicator without data is not scored: its axis says so instead of looking like a zero
    radar = {"indicators": [{"name": METRICS.get(i.metric, (i.metric,))[0]
                             + ("（无数据）" if row.result.scores.get(i.metric) is None else ""), "max": 100}
                            for i in inds],
             "values": [round(100 * (row.result.scores.get(i.metric) or 0) / i.weight, 1) for i in inds],
             "name": row.department_name}
    return render(request, "analysis/eval_scorecard.html", {
        **_common(request, "evaluations", f"{row.department_name} 效能评价"), "view": view, "row": row,
        "radar": radar})


async def evaluation_compare(request: Request) -> Response:
    q = request.query_params
    b_text = q.get("b", "").strip() or last_closed_half_year().code
    a_text = q.get("a", "").strip() or parse_period(b_text).previous().code
    a, b, rows = await read(request, evaluation.compare_periods, a_text, b_text)
    return render(request, "analysis/compare.html", {**_common(request, "evaluations", "两期评价对比"),
                                                      "a": a, "b": b, "rows": rows, "a_text": a_text,
                                                      "b_text": b_text})


async def evaluation_export(request: Request) -> Response:
    view = await read(request, evaluation.get_run, request.path_params["run_id"])
    data = await _in_thread(run_to_xlsx, view)
    name = quote(f"效能评价-{view.run.period}-{view.run.id}.xlsx")
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


async def indicator_sets(request: Request) -> Response:
    views = await read(request, evaluation.list_indicator_sets, include_history=True)
    return render(request, "analysis/indicator_sets.html", {**_common(request, "evaluations", "评价指标体系"),
                                                             "sets": views})


def _parse_bands(text: str, n: int) -> list[dict]:
    """"0.7:100, 0.5:70" -> bands; a Chinese error naming the indicator row for anything else."""
    bands = []
    for part in [p for p in text.replace("，", ",").split(",") if p.strip()]:
        bound, sep, percent = part.replace("：", ":").partition(":")
        try:
            if not sep:
                raise ValueError
            bands.append({"bound": float(bound), "percent": float(percent)})
        except ValueError as exc:
            raise InvalidInput(f"第 {n + 1} 项指标的分段“{part.strip()}”格式应为 界值:得分比例，如 0.7:100",
                               field=f"indicators[{n}].bands", code="bad_bands") from exc
    return bands


def _set_form(form) -> dict:
    indicators: list[dict] = []
    n = 0
    while f"metric_{n}" in form:
        if str(form.get(f"metric_{n}", "")).strip():
            rule = str(form.get(f"rule_{n}", "linear"))
            indicators.append({
                "metric": str(form.get(f"metric_{n}")), "weight": form.get(f"weight_{n}"),
                "target": form.get(f"target_{n}"), "floor": form.get(f"floor_{n}"),
                "direction": str(form.get(f"direction_{n}", "higher")), "rule": rule,
                "bands": _parse_bands(str(form.get(f"bands_{n}", "")), len(indicators)) if rule == "bands" else []})
        n += 1
    grades: list[dict] = []
    n = 0
    while f"grade_{n}" in form:
        if str(form.get(f"grade_{n}", "")).strip():
            grades.append({"grade": str(form.get(f"grade_{n}")).strip(), "min": form.get(f"grade_min_{n}")})
        n += 1
    return {"code": str(form.get("code", "")), "name": str(form.get("name", "")),
            "description": str(form.get("description", "")), "indicators": indicators, "grade_bands": grades}


def _form_rows(values: dict) -> dict:
    rows = [dict(i, bands_text=", ".join(f"{b['bound']:g}:{b['percent']:g}" for b in i.get("bands") or []))
            for i in values["indicators"]]
    rows += [{"metric": "", "weight": "", "target": "", "floor": "", "direction": "higher", "rule": "linear",
              "bands_text": ""} for _ in range(3)]
    grades = [*values["grade_bands"], {"grade": "", "min": ""}]
    return {**values, "rows": rows, "grades": grades}


async def indicator_set_edit(request: Request) -> Response:
    code = request.path_params["code"]
    views = await read(request, evaluation.list_indicator_sets)
    current = next((v for v in views if v.set.code == code), None)
    if current is None:
        raise NotFound(f"指标体系“{code}”不存在")
    values = {"code": code, "name": current.set.name, "description": current.set.description,
              "grade_bands": current.set.grade_bands,
              "indicators": [{"metric": i.metric, "weight": f"{i.weight:g}", "target": f"{i.target:g}",
                              "floor": f"{i.floor:g}", "direction": i.direction, "rule": i.rule, "bands": i.bands}
                             for i in current.indicators]}
    return render(request, "analysis/indicator_set_form.html", {
        **_common(request, "evaluations", f"修改指标体系 {current.set.name}"), "form": _form_rows(values),
        "current": current, "errors": []})


async def indicator_set_save(request: Request) -> Response:
    values: dict = {"code": request.path_params["code"], "name": "", "description": "", "indicators": [],
                    "grade_bands": []}
    try:
        values = _set_form(await request.form())
        saved = await run(request, evaluation.save_indicator_set, **values)
    except InvalidInput as exc:
        return render(request, "analysis/indicator_set_form.html", {
            **_common(request, "evaluations", "修改指标体系"), "form": _form_rows(values), "current": None,
            "errors": exc.errors}, status_code=400)
    return redirect_after_post(request, "/evaluations/sets",
                               message=f"已保存“{saved.set.name}”第 {saved.set.version} 版。")


async def _in_thread(fn, *args):
    return await anyio.to_thread.run_sync(fn, *args)


# ---- reports -------------------------------------------------------------------------------------------------

async def report_list(request: Request) -> Response:
    rows = await read(request, list_reports)
    return render(request, "analysis/reports.html", {**_common(request, "reports", "分析报告"), "reports": rows,
                                                      "default_period": last_closed_half_year().code})


async def report_generate(request: Request) -> Response:
    form = await request.form()
    job = await run(request, start_report_job, str(form.get("period", "")), var_dir=request.app.state.settings.var_dir)
    return redirect_after_post(request, f"/jobs/{job.id}", message="已开始生成分析报告，完成后将出现在报告列表中。")


async def report_download(request: Request) -> Response:
    row = await read(request, get_report, request.path_params["report_id"])
    path, media, name = report_file(row, request.path_params["kind"], request.app.state.settings.var_dir)
    if request.path_params["kind"] == "html":
        return FileResponse(path, media_type=media, headers={"Content-Security-Policy": REPORT_CSP})
    return FileResponse(path, media_type=media, filename=name)


routes = [
    Route("/behaviour", behaviour_list),
    Route("/behaviour/findings", findings),
    Route("/behaviour/{code:str}", behaviour_department),
    Route("/evaluations", evaluation_list),
    Route("/evaluations/run", evaluation_run, methods=["POST"]),
    Route("/evaluations/compare", evaluation_compare),
    Route("/evaluations/sets", indicator_sets),
    Route("/evaluations/sets/{code:str}/edit", indicator_set_edit),
    Route("/evaluations/sets/{code:str}", indicator_set_save, methods=["POST"]),
    Route("/evaluations/runs/{run_id:int}", evaluation_detail),
    Route("/evaluations/runs/{run_id:int}.xlsx", evaluation_export),
    Route("/evaluations/runs/{run_id:int}/departments/{code:str}", evaluation_scorecard),
    Route("/reports", report_list),
    Route("/reports/generate", report_generate, methods=["POST"]),
    Route("/reports/{report_id:int}/{kind:str}", report_download),
]
