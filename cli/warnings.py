"""warnings: routing table, deadlines, working-day overrides and automatic issue from the console (as `system`)."""

from __future__ import annotations

from datetime import date

import typer
from rich.table import Table

from cli.common import act, console, database, fail, setup_step
from domain.identity.actor import SYSTEM
from domain.warnings import deadlines as deadline_service
from domain.warnings import routing
from domain.warnings.auto_issue import auto_issue_warnings, issue_after_scoring
from domain.warnings.models import DAY_KINDS, LEVELS, ROUTING_KINDS

__all__ = ["register", "register_scoring_step"]


def register(app: typer.Typer) -> None:
    warnings_app = typer.Typer(help="Warnings (预警): routing, deadlines, working days, automatic issue.",
                               no_args_is_help=True)
    warnings_app.command("routing")(routing_list)
    warnings_app.command("route")(route_add)
    warnings_app.command("deadlines")(deadlines_show)
    warnings_app.command("deadline")(deadline_set)
    warnings_app.command("workday")(workday_set)
    warnings_app.command("auto-issue")(auto_issue)
    app.add_typer(warnings_app, name="warnings")


def register_scoring_step() -> None:
    """After each committed scoring run (also `regwatch score`): automatic warnings from the champion's scores."""
    # imported here, not at the top, to keep `regwatch --help` fast: ml.runs loads XGBoost
    from ml.runs import after_scoring

    after_scoring(issue_after_scoring)


def routing_list() -> None:
    """Show the routing table in the order it is applied (派发规则)."""
    rules = act(routing.list_routing_rules, work="read")
    table = Table("id", "类型", "条件", "责任部门", "优先级", "状态")
    for v in rules:
        table.add_row(str(v.rule.id), ROUTING_KINDS[v.rule.kind], v.condition, v.department_name,
                      str(v.rule.priority), "启用" if v.rule.active else "停用")
    console.print(table)


def route_add(kind: str = typer.Argument(..., help="item / industry / district / default"),
              department: str = typer.Argument(..., help="Department code (部门编码)."),
              value: str = typer.Option("", help="Item code, industry prefix or region code, by kind."),
              priority: int = typer.Option(100), note: str = typer.Option("")) -> None:
    """Add a routing rule."""
    data = routing.RoutingRuleInput(kind=kind, department_code=department, priority=priority, note=note,
                                    item_code=value if kind == "item" else None,
                                    industry_prefix=value if kind == "industry" else None,
                                    region_code=value if kind == "district" else None)
    rule = act(routing.save_routing_rule, data)
    console.print(f"派发规则 {rule.id} 已保存")


def deadlines_show() -> None:
    """Show the deadlines per level (处置时限)."""
    settings = act(lambda s, _a: deadline_service.deadline_settings(s), work="read")
    table = Table("等级", "签收", "处置")
    for level, d in settings.items():
        table.add_row(level, f"{d.receipt_days} {DAY_KINDS[d.receipt_day_kind]}",
                      f"{d.disposal_days} {DAY_KINDS[d.disposal_day_kind]}")
    console.print(table)


def deadline_set(level: str = typer.Argument(..., help=" / ".join(LEVELS)),
                 receipt: int = typer.Option(1, help="Receipt within N days."),
                 receipt_kind: str = typer.Option("working", help="working / calendar"),
                 disposal: int = typer.Option(..., help="Disposal within N days."),
                 disposal_kind: str = typer.Option("calendar", help="working / calendar")) -> None:
    """Set one level's deadlines."""
    d = act(deadline_service.save_deadline_setting, level, receipt_days=receipt, receipt_day_kind=receipt_kind,
             disposal_days=disposal, disposal_day_kind=disposal_kind)
    console.print(f"{level}: {d.describe}")


def workday_set(day: str = typer.Argument(..., help="YYYY-MM-DD"),
                workday: bool = typer.Option(True, "--workday/--holiday", help="A workday or a day off."),
                note: str = typer.Option(""), delete: bool = typer.Option(False, help="Remove the override.")) -> None:
    """Declare a day a workday or a holiday, over the official calendar (工作日调整)."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        fail(f"日期“{day}”应为 YYYY-MM-DD", 2)
        return
    if delete:
        act(deadline_service.delete_workday_override, parsed)
        console.print(f"{parsed} 的调整已删除")
    else:
        act(deadline_service.save_workday_override, parsed, workday, note)
        console.print(f"{parsed} 设为{'工作日' if workday else '休息日'}")


def auto_issue(run_id: int = typer.Argument(..., help="Scoring run id."),
               min_level: str = typer.Option("yellow", help=" / ".join(LEVELS))) -> None:
    """Issue warnings from a scoring run now (normally done after each scoring job)."""
    result = act(auto_issue_warnings, run_id, min_level=min_level)
    console.print(f"新发布 {result.issued}，提升等级 {result.raised}，无派发规则 {result.unrouted}"
                  f"（{result.seconds:.2f} 秒）")


@setup_step(35, "default routing rule (and the demo city's routing table)")
def default_route() -> None:
    """First run: without a default routing rule no warning can be dispatched; route to the first city department."""
    from sqlmodel import select

    from domain.demo.routing import ensure_demo_routing
    from domain.identity.models import Department
    from domain.warnings.models import RoutingRule

    db = database()
    try:
        with db.unit_of_work() as session:
            # the demo city: by trade and by district to its departments (only conditions not configured yet)
            added = ensure_demo_routing(session, SYSTEM)
            if added:
                console.print(f"演示城市派发规则：新增 {added} 条（按行业、按行政区划）")
            if session.exec(select(RoutingRule).where(RoutingRule.kind == "default")).first() is not None:
                return
            dept = session.exec(select(Department).where(Department.active == True)  # noqa: E712
                                .order_by(Department.level, Department.id)).first()  # type: ignore[arg-type]
            if dept is None:
                return
            routing.save_routing_rule(session, SYSTEM, routing.RoutingRuleInput(
                kind="default", department_code=dept.code, note="初始化时设置，可在派发规则页修改"))
            console.print(f"默认派发部门：{dept.name}")
    finally:
        db.dispose()
