"""Model management pages (风险模型管理): versions, a version's metrics and actions, comparison, rules."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.errors import InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.jobs import service as jobs
from domain.pagination import PageRequest
from domain.risk import queries as q
from domain.risk import versions
from domain.risk.levels import LEVELS
from domain.statistics.service import version_precision
from ml import jobs as risk_jobs
from web.common import actor_of, read, redirect_after_post, run
from web.forms import FORM_ERRORS, field_errors, validate_or_save
from web.risk.charts import chart_data, compare_charts
from web.templating import is_htmx, render

__all__ = ["routes"]

PAGE_SIZE = 20
SAVED_THRESHOLDS = "阈值已保存（已记入审计日志），从此版本的下一次评分起生效；已有评分保持原等级。"


def feature_label(name: str) -> str:
    """The feature's Chinese name from the registry, or the name itself (score, retired features)."""
    if name == "score":
        return "模型评分"
    try:
        from ml.features import feature

        return feature(name).label_zh
    except (ImportError, KeyError, ValueError):
        return name


LABEL_WORDS = {"train": "训练集", "validation": "验证集", "historical": "历史结果（处罚/检查不合格）",
               "history": "历史结果（处罚/检查不合格）", "feedback": "预警反馈", "positive": "正例", "negative": "负例"}


def label_lines(counts: Any, prefix: str = "") -> list[str]:
    """Label counts (nested by split and source) as readable lines: "训练集 · 预警反馈：正例 3，负例 9"."""
    if not isinstance(counts, dict):
        return [f"{prefix}：{counts}"] if prefix else []
    if counts and all(not isinstance(v, dict) for v in counts.values()):
        body = "，".join(f"{LABEL_WORDS.get(k, k)} {v}" for k, v in counts.items())
        return [f"{prefix}：{body}" if prefix else body]
    lines: list[str] = []
    for key, value in counts.items():
        name = LABEL_WORDS.get(str(key), str(key))
        lines += label_lines(value, f"{prefix} · {name}" if prefix else name)
    return lines


def _int(value: str | None, field: str) -> int:
    try:
        return int(value or "")
    except ValueError as exc:
        raise InvalidInput(f"对比的{field.upper()}侧应为模型版本编号（数字），收到“{value}”", field=field,
                           code="bad_id") from exc


def shown_value(value: Any) -> str:
    """A feature value as a person writes it in a rule try-out: 是/否, whole numbers, 未知 for missing."""
    if value is None:
        return "未知"
    if isinstance(value, bool):
        return "是" if value else "否"
    if value == "":
        return "（空）"
    return str(value)


def _base(request: Request, **extra: Any) -> dict[str, Any]:
    actor = actor_of(request)
    from ml.features import TYPE_LABELS

    return {"active": "models", "can_manage": q.can_manage_models(actor), "levels": LEVELS,
            "feature_label": feature_label, "type_labels": TYPE_LABELS, **extra}


# ---- versions ----------------------------------------------------------------------------------------------

def _versions_page(session, actor: Actor, offset: int):
    page = q.list_versions(session, actor, PageRequest(first=PAGE_SIZE, after=offset - 1 if offset else None))
    models = q.list_models(session, actor)
    history = q.alias_history(session, actor, limit=10)
    return page, models, history


async def _listing(request: Request) -> Response:
    raw = request.query_params.get("offset", "0")
    offset = int(raw) if raw.isdigit() else 0
    page, models, history = await read(request, _versions_page, offset)
    model = next((m for m in models if m.name == q.DEFAULT_MODEL), None)
    return render(request, "risk/versions.html", _base(
        request, page=page, model=model, history=history, page_size=PAGE_SIZE, page_title="风险模型管理"),
        block="versions")


async def version_list(request: Request) -> Response:
    return await _listing(request)


def _compare_page(session, actor: Actor, a: int | None, b: int | None):
    cmp = q.compare_versions(session, actor, a, b) if a is not None and b is not None else None
    return cmp, q.list_versions(session, actor, PageRequest(first=200, count=False))


async def version_compare(request: Request) -> Response:
    a, b = request.query_params.get("a"), request.query_params.get("b")
    cmp, options = await read(request, _compare_page, _int(a, "a") if a and b else None,
                              _int(b, "b") if a and b else None)
    charts = {}
    if cmp is not None:
        charts = compare_charts([(f"A · v{cmp.a.version.version}", cmp.a.metrics),
                                 (f"B · v{cmp.b.version.version}", cmp.b.metrics)])
    return render(request, "risk/compare.html", _base(
        request, cmp=cmp, options=options.items, a=a, b=b, chart_data=charts, page_title="版本对比"))


def _version_detail(session, actor: Actor, version_id: int):
    view = q.get_version(session, actor, version_id)
    return {
        "view": view,
        "metrics": view.metrics,
        "history": q.alias_history(session, actor, model_name=view.version.model_name),
        "drift": q.version_drift(session, actor, version_id),
        "backtests": q.list_backtests(session, actor, version_id),
        "precision": version_precision(session, actor, version_id),
        "rollback_to": versions.rollback_target(session, actor, alias="champion", model_name=view.version.model_name)
        if "champion" in view.aliases else None,
    }


async def _detail(request: Request, version_id: int) -> Response:
    data = await read(request, _version_detail, version_id)
    view = data["view"]
    return render(request, "risk/version.html", _base(
        request, **data, thresholds=dict(view.thresholds), errors={}, chart_data=chart_data(data["metrics"]),
        feature_labels={f.feature: feature_label(f.feature) for f in data["metrics"].importance},
        label_lines=label_lines(view.version.label_counts),
        page_title=f"模型版本 {view.label}"))


async def version_detail(request: Request) -> Response:
    return await _detail(request, request.path_params["version_id"])


# ---- rules -------------------------------------------------------------------------------------------------

async def rule_list(request: Request) -> Response:
    rules = await read(request, q.list_rules)
    return render(request, "risk/rules.html", _base(request, rules=rules, page_title="预警规则"))


def _rule_form(rule=None, form: FormData | dict | None = None) -> dict[str, Any]:
    if form is not None:
        return {"id": form.get("id") or "", "code": form.get("code", ""), "name": form.get("name", ""),
                "expression": form.get("expression", ""), "min_level": form.get("min_level", "yellow"),
                "description": form.get("description", ""), "enabled": form.get("enabled") in ("on", "true", "1")}
    if rule is None:
        return {"id": "", "code": "", "name": "", "expression": "", "min_level": "yellow", "description": "",
                "enabled": False}
    return {"id": rule.id, "code": rule.code, "name": rule.name, "expression": rule.expression,
            "min_level": rule.min_level, "description": rule.description, "enabled": rule.enabled}


def _rule_page(session, actor: Actor, rule_id: int | None):
    """A rule with its revisions, or nothing for a new one (which only a model manager may write)."""
    if rule_id is None:
        q.ensure_can_manage_models(actor)
        return None, []
    return q.get_rule(session, actor, rule_id), q.rule_revisions(session, actor, rule_id)


async def _rule_page_response(request: Request, rule_id: int | None, *, form: dict[str, Any] | None = None,
                              errors: dict[str, str] | None = None) -> Response:
    rule, revisions = await read(request, _rule_page, rule_id)
    title = ("规则未保存" if errors else f"规则 {rule.code}" if rule else "新建规则")
    return render(request, "risk/rule.html", _base(
        request, rule=rule, form=form if form is not None else _rule_form(rule), errors=errors or {},
        revisions=revisions, test=None, features=_features(), page_title=title), status_code=400 if errors else 200)


async def rule_edit(request: Request) -> Response:
    return await _rule_page_response(request, request.path_params.get("rule_id"))


def _features() -> list[Any]:
    """The registered features a rule may use (available ones only)."""
    from ml.features import FEATURES

    return [f for f in FEATURES if f.available]


# ---- actions -----------------------------------------------------------------------------------------------

async def train_start(request: Request) -> Response:
    job = await run(request, risk_jobs.start_risk_job, "train", {})
    return render(request, "risk/inc/job_progress.html", {"job": job, "purpose": "train"})


async def score_start(request: Request) -> Response:
    """Start a scoring run of every entity with the champion (and the challenger in shadow) as a job."""
    job = await run(request, risk_jobs.start_risk_job, "score", {})
    return render(request, "risk/inc/job_progress.html", {"job": job, "purpose": "score"})


async def job_progress(request: Request) -> Response:
    """A risk job's progress, polled by the train, score and backtest panels until it ends."""
    job = await read(request, jobs.get_job, request.path_params["job_id"])
    if job.kind not in ("train", "score", "backtest"):
        raise NotFound(f"任务 #{job.id} 不是模型任务（训练、评分或回测）", field="id")
    version_id = (job.params or {}).get("version_id")
    return render(request, "risk/inc/job_progress.html", {
        "job": job, "purpose": job.kind, "version_id": version_id})


async def backtest_start(request: Request) -> Response:
    version_id = request.path_params["version_id"]
    form = await request.form()
    params = {"version_id": version_id, "as_of": str(form.get("as_of") or ""),
              "window_days": str(form.get("window_days") or "")}
    errors: dict[str, str] = {}
    if not params["as_of"]:
        errors["as_of"] = "请选择回测截止日"
    if params["window_days"] and not params["window_days"].isdigit():
        errors["window_days"] = "观察窗口须为正整数（天）"
    if errors:
        return render(request, "risk/inc/job_progress.html", {"job": None, "errors": errors, "purpose": "backtest"})
    params["window_days"] = int(params["window_days"]) if params["window_days"] else None
    job = await run(request, risk_jobs.start_risk_job, "backtest", params)
    return render(request, "risk/inc/job_progress.html", {"job": job, "purpose": "backtest", "version_id": version_id})


async def _alias_action(request: Request, fn, *args: Any, done: str,
                        **kwargs: Any) -> tuple[Any, str | None, str | None]:
    """(result, message, error): a refusal is shown on the page the post-redirect-get leads to."""
    try:
        result = await run(request, fn, *args, **kwargs)
    except FORM_ERRORS as exc:
        return None, None, exc.message
    return result, done, None


async def promote(request: Request) -> Response:
    version_id = request.path_params["version_id"]
    form = await request.form()
    alias = str(form.get("alias") or "champion")
    done = (f"已设为{versions.ALIAS_LABELS.get(alias, alias)}（原因已记入别名历史与审计日志）。"
            + ("新冠军从下一次评分起生效，可在本页“开始评分”。" if alias == "champion" else ""))
    _, message, error = await _alias_action(request, versions.promote_model_version, version_id, alias=alias,
                                            reason=str(form.get("reason") or ""), done=done)
    return redirect_after_post(request, f"/models/{version_id}", message=message, error=error)


async def demote(request: Request) -> Response:
    version_id = request.path_params["version_id"]
    form = await request.form()
    _, message, error = await _alias_action(request, versions.demote_alias, str(form.get("alias") or "challenger"),
                                            reason=str(form.get("reason") or ""), done="已取消挑战者。")
    return redirect_after_post(request, f"/models/{version_id}", message=message, error=error)


async def rollback(request: Request) -> Response:
    """Give the alias back to its previous holder, then show that version."""
    form = await request.form()
    alias = str(form.get("alias") or "champion")
    held, message, error = await _alias_action(request, versions.rollback_model, alias=alias,
                                               reason=str(form.get("reason") or ""), done="已回滚到上一版本。")
    holder_id = held.version_id if held is not None else None
    if holder_id is None:  # refused: the alias stays where it was
        models = await read(request, q.list_models)
        holder = next((m.aliases.get(alias) for m in models if m.name == q.DEFAULT_MODEL), None)
        holder_id = holder.id if holder else None
    return redirect_after_post(request, f"/models/{holder_id}" if holder_id else "/models", message=message,
                               error=error)


async def thresholds_check(request: Request) -> Response:
    """Inline validation while typing: the same rules as saving, nothing stored."""
    form = await request.form()
    values = {level: str(form.get(level) or "") for level in LEVELS}
    errors: dict[str, str] = {}
    try:
        versions.validate_thresholds(values)
    except InvalidInput as exc:
        errors = field_errors(exc, strip="thresholds.")
    view = await read(request, q.get_version, request.path_params["version_id"])
    return render(request, "risk/version.html", _base(request, view=view, thresholds=values, errors=errors),
                  block="thresholds")


def _save_thresholds(session, actor: Actor, version_id: int, values: dict[str, str]) -> q.VersionView:
    """Save the thresholds and read the version back as the form shows it, in one unit of work."""
    versions.set_level_thresholds(session, actor, version_id, values)
    return q.get_version(session, actor, version_id)


async def thresholds_save(request: Request) -> Response:
    version_id = request.path_params["version_id"]
    form = await request.form()
    values = {level: str(form.get(level) or "") for level in LEVELS}
    try:
        view, errors = await run(request, _save_thresholds, version_id, values), {}
    except InvalidInput as exc:
        view, errors = None, field_errors(exc, strip="thresholds.")
    if not is_htmx(request):
        return redirect_after_post(request, f"/models/{version_id}", message=None if errors else SAVED_THRESHOLDS,
                                   error="阈值未保存：" + "；".join(errors.values()) if errors else None)
    if view is None:  # refused: the version as it is, with what was typed
        view = await read(request, q.get_version, version_id)
    shown = values if errors else dict(view.thresholds)
    return render(request, "risk/version.html", _base(request, view=view, thresholds=shown, errors=errors,
                                                      saved=not errors), block="thresholds")


async def rule_save(request: Request) -> Response:
    from ml import rule_actions  # loads cel-python and numpy on first use, not when the app starts

    form = await request.form()
    data = _rule_form(form=form)
    rule_id = int(data["id"]) if str(data["id"]).isdigit() else None
    save = functools.partial(rule_actions.save_risk_rule, code=data["code"], name=data["name"],
                             expression=data["expression"], min_level=data["min_level"],
                             description=data["description"], enabled=data["enabled"], rule_id=rule_id)
    return await validate_or_save(
        request, form, save, show=lambda errors: _rule_page_response(request, rule_id, form=data, errors=errors),
        saved=lambda rule: redirect_after_post(request, f"/rules/{rule.id}",
                                               message=f"规则 {rule.code} 已保存为第 {rule.revision} 版。"))


async def rule_test(request: Request) -> Response:
    from ml import rule_actions  # loads cel-python and numpy on first use, not when the app starts

    form = await request.form()
    expression = str(form.get("expression") or "")
    raw_date = str(form.get("test_as_of") or "")
    try:
        try:
            as_of = date.fromisoformat(raw_date) if raw_date else None
        except ValueError as exc:
            raise InvalidInput(f"“{raw_date}”不是日期（YYYY-MM-DD）", field="as_of", code="not_a_date") from exc
        result = await read(request, rule_actions.try_risk_rule, expression, as_of=as_of)
    except InvalidInput as exc:
        return render(request, "risk/inc/rule_test.html", {"test": None, "error": field_errors(exc)})
    return render(request, "risk/inc/rule_test.html", {"test": result, "error": None,
                                                        "feature_label": feature_label, "shown": shown_value})


routes = [
    Route("/models", version_list),
    Route("/models/train", train_start, methods=["POST"]),
    Route("/models/score", score_start, methods=["POST"]),
    Route("/models/jobs/{job_id:int}", job_progress),
    Route("/models/rollback", rollback, methods=["POST"]),
    Route("/models/compare", version_compare),
    Route("/models/{version_id:int}", version_detail),
    Route("/models/{version_id:int}/promote", promote, methods=["POST"]),
    Route("/models/{version_id:int}/demote", demote, methods=["POST"]),
    Route("/models/{version_id:int}/thresholds", thresholds_save, methods=["POST"]),
    Route("/models/{version_id:int}/thresholds/check", thresholds_check, methods=["POST"]),
    Route("/models/{version_id:int}/backtest", backtest_start, methods=["POST"]),
    Route("/rules", rule_list),
    Route("/rules", rule_save, methods=["POST"]),
    Route("/rules/test", rule_test, methods=["POST"]),
    Route("/rules/new", rule_edit),
    Route("/rules/{rule_id:int}", rule_edit),
]
