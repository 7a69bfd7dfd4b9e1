"""Templates: one helper renders the whole page, or one block of it for htmx requests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jinja2_fragments.starlette import Jinja2Blocks
from starlette.requests import Request
from starlette.responses import Response

from domain.identity.policy import can
from domain.platform import app_version
from domain.risk.levels import LEVEL_LABELS, level_label
from domain.types import LOCAL_TZ
from web.navigation import NAVIGATION, visible_sections

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "is_htmx", "render", "templates"]

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

templates = Jinja2Blocks(directory=str(TEMPLATES_DIR))
# Templates are compiled once and kept (the environment's cache); in production they are not checked against their
# files again on every render (auto_reload stats each template and its parents and imports per render). The
# environment is the one REGWATCH_ENV that the settings read (domain.settings.Settings.from_env).
templates.env.auto_reload = os.environ.get("REGWATCH_ENV", "dev").strip().lower() != "prod"
_VERSION = app_version()


def static_url(path: str) -> str:
    """URL of a vendored or app asset, versioned so caches refresh on upgrade."""
    return f"/static/{path}?v={_VERSION}"


templates.env.globals.update(static_url=static_url, navigation=NAVIGATION, app_version=_VERSION,
                             visible_sections=visible_sections, can=can)

def localtime(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC timestamp shown in Asia/Shanghai time."""
    if value is None:
        return "—"
    return value.astimezone(LOCAL_TZ).strftime(fmt) if hasattr(value, "astimezone") else str(value)


templates.env.filters["localtime"] = localtime

AUDIT_ACTION_NAMES = {
    "login": "登录", "login.failed": "登录失败", "login.locked": "登录锁定", "login.refused_locked": "锁定期间尝试登录",
    "login.unlock": "解除登录锁定", "logout": "退出登录",
    "user.create": "新建用户", "user.update": "修改用户", "user.deactivate": "停用用户",
    "user.password_change": "修改密码", "user.password_reset": "重置密码",
    "department.create": "新建部门", "department.update": "修改部门", "department.deactivate": "停用部门",
    "token.create": "创建接口令牌", "token.revoke": "吊销接口令牌",
    "data_source.create": "新建数据源", "job.submit": "提交后台任务", "demo.build": "生成演示数据",
    "ingest.entities": "导入监管对象", "ingest.items": "导入监管事项", "ingest.actions": "导入监管行为",
    "ingest.complaints": "导入投诉举报", "ingest.credit": "导入信用记录",
    "model.train": "训练模型", "model.promote": "启用模型版本", "model.demote": "停用模型别名",
    "model.rollback": "回滚模型", "model.thresholds": "修改等级阈值", "model.backtest": "模型回测",
    "rule.save": "保存预警规则", "risk.score": "风险评分",
    "indicator_set.save": "保存评价指标体系", "evaluation.run": "开展效能评价", "report.generate": "生成分析报告",
}
templates.env.filters["audit_action"] = lambda action: AUDIT_ACTION_NAMES.get(action, action)

LEVEL_NAMES = LEVEL_LABELS  # the one level vocabulary (domain/risk/levels.py)
templates.env.filters["level_name"] = level_label

JOB_KIND_NAMES = {"supervision.import": "数据导入", "demo": "演示数据生成", "train": "模型训练", "score": "风险评分",
                  "backtest": "模型回测", "analysis_report": "分析报告生成",
                  "analysis_report.half_year": "半年分析报告"}
templates.env.filters["job_kind"] = lambda kind: JOB_KIND_NAMES.get(kind, kind)


def is_htmx(request: Request) -> bool:
    """An htmx request that wants a fragment (boosted navigations want the whole page)."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           block: str | None = None, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Render `template` whole, or only `block` when htmx asks for a fragment."""
    ctx: dict[str, Any] = {
        "request": request,
        "actor": getattr(request.state, "actor", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "flashes": _pop_flashes(request),
    }
    ctx.update(context or {})
    if block is not None and is_htmx(request):
        return templates.TemplateResponse(request, template, ctx, block_name=block, status_code=status_code,
                                          headers=headers)
    return templates.TemplateResponse(request, template, ctx, status_code=status_code, headers=headers)


def flash(request: Request, message: str, category: str = "success") -> None:
    """Queue a message for the next page shown to this user (post-redirect-get)."""
    if "session" in request.scope:
        request.session.setdefault("_flashes", []).append([category, message])


def _pop_flashes(request: Request) -> list[list[str]]:
    if "session" not in request.scope:
        return []
    return request.session.pop("_flashes", []) or []
