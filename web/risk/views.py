"""Model management pages (风险模型管理): versions, a version's metrics and actions, comparison, rules."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.errors import InvalidInput
from domain.identity.actor import ANONYMOUS, Actor
from domain.pagination import PageRequest
from domain.risk import queries as q
from domain.risk.models import LEVELS
from web.templating import render

__all__ = ["routes"]

PAGE_SIZE = 20


def actor_of(request: Request) -> Actor:
    return getattr(request.state, "actor", ANONYMOUS)


def feature_label(name: str) -> str:
    """The feature's Chinese name from the registry, or the name itself (score, retired features)."""
    if name == "score":
        return "模型评分"
    try:
        from ml.features import feature

        return feature(name).label_zh
    except (ImportError, KeyError, ValueError):
        return name


def _int(value: str | None, field: str) -> int:
    try:
        return int(value or "")
    except ValueError as exc:
        raise InvalidInput(f"{field} must be a model version id (a number), got {value!r}", field=field,
                           code="bad_id") from exc


def _base(request: Request, **extra: Any) -> dict[str, Any]:
    actor = actor_of(request)
    return {"active": "models", "can_manage": q.can_manage_models(actor), "levels": LEVELS,
            "feature_label": feature_label, **extra}


# ---- versions ----------------------------------------------------------------------------------------------

def _versions_page(session, actor: Actor, offset: int):
    page = q.list_versions(session, actor, PageRequest(first=PAGE_SIZE, after=offset - 1 if offset else None))
    models = q.list_models(session, actor)
    history = q.alias_history(session, actor, limit=10)
    return page, models, history


async def version_list(request: Request) -> Response:
    raw = request.query_params.get("offset", "0")
    offset = int(raw) if raw.isdigit() else 0
    page, models, history = await request.app.state.db.run(_versions_page, actor_of(request), offset)
    model = next((m for m in models if m.name == q.DEFAULT_MODEL), None)
    return render(request, "risk/versions.html", _base(
        request, page=page, model=model, history=history, page_size=PAGE_SIZE, page_title="风险模型管理"),
        block="versions")


async def version_compare(request: Request) -> Response:
    a, b = request.query_params.get("a"), request.query_params.get("b")
    cmp = None
    if a and b:
        cmp = await request.app.state.db.run(q.compare_versions, actor_of(request), _int(a, "a"), _int(b, "b"))
    options = await request.app.state.db.run(q.list_versions, actor_of(request), PageRequest(first=200))
    return render(request, "risk/compare.html", _base(
        request, cmp=cmp, options=options.items, a=a, b=b, page_title="版本对比"))


def _version_detail(session, actor: Actor, version_id: int):
    view = q.get_version(session, actor, version_id)
    return {
        "view": view,
        "metrics": view.metrics,
        "history": q.alias_history(session, actor, model_name=view.version.model_name),
        "drift": q.version_drift(session, actor, version_id),
        "backtests": q.list_backtests(session, actor, version_id),
    }


async def version_detail(request: Request) -> Response:
    data = await request.app.state.db.run(_version_detail, actor_of(request), request.path_params["version_id"])
    view = data["view"]
    return render(request, "risk/version.html", _base(
        request, **data, thresholds=dict(view.thresholds), errors={}, chart_data=data["metrics"].chart_data(),
        feature_labels={f.feature: feature_label(f.feature) for f in data["metrics"].importance},
        page_title=f"模型版本 {view.label}"))


# ---- rules -------------------------------------------------------------------------------------------------

async def rule_list(request: Request) -> Response:
    rules = await request.app.state.db.run(q.list_rules, actor_of(request))
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


async def rule_edit(request: Request) -> Response:
    rule_id = request.path_params.get("rule_id")
    actor = actor_of(request)
    rule, revisions = None, []
    if rule_id is not None:
        rule = await request.app.state.db.run(q.get_rule, actor, rule_id)
        revisions = await request.app.state.db.run(q.rule_revisions, actor, rule_id)
    else:
        await request.app.state.db.run(lambda _s: q.ensure_can_manage_models(actor))
    return render(request, "risk/rule.html", _base(
        request, rule=rule, form=_rule_form(rule), errors={}, revisions=revisions, test=None,
        page_title=f"规则 {rule.code}" if rule else "新建规则"))


routes = [
    Route("/models", version_list),
    Route("/models/compare", version_compare),
    Route("/models/{version_id:int}", version_detail),
    Route("/rules", rule_list),
    Route("/rules/new", rule_edit),
    Route("/rules/{rule_id:int}", rule_edit),
]
