"""The product's navigation: one list, so the sidebar and the home page agree."""

from __future__ import annotations

from dataclasses import dataclass

from domain.identity.actor import Actor
from domain.identity.policy import can

__all__ = ["NAVIGATION", "NavItem", "NavSection", "find_item", "visible_sections"]


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    path: str
    summary: str  # what the module does, shown on the home page
    permissions: tuple[str, ...] = ()  # any of these policy permissions opens it; empty: everyone signed in

    def visible_to(self, actor: Actor | None) -> bool:
        """Shown only to whom the policy lets open it."""
        if actor is None or not actor.is_authenticated:
            return not self.permissions
        return not self.permissions or any(can(actor, p) for p in self.permissions)


@dataclass(frozen=True)
class NavSection:
    label: str
    items: tuple[NavItem, ...]


NAVIGATION: tuple[NavSection, ...] = (
    NavSection("风险预警", (
        NavItem("clues", "线索", "/clues", "风险线索接收：部门推送、投诉举报、数据中心与手工录入的线索，去重并关联监管对象。", permissions=("clues.work",)),
        NavItem("analysis", "研判", "/analysis", "风险分析研判：模型评分与规则给出等级和解释，研判人员确认、降级或排除。", permissions=("clues.work", "models.read")),
        NavItem("warnings", "预警", "/warnings", "预警发布：分级预警（红橙黄蓝）派发至责任部门并设定期限。", permissions=("warnings.work", "warnings.handle")),
        NavItem("disposal", "处置", "/disposal", "风险处置反馈：部门签收、处置、反馈、退回与办结的全流程留痕。", permissions=("warnings.handle", "warnings.work")),
        NavItem("models", "模型", "/models", "风险模型管理：模型版本、训练、指标、回测、启用与回滚、阈值与规则。",
                permissions=("models.read",)),
        NavItem("statistics", "统计", "/statistics", "风险统计展示：统计看板与绩效目标面板。",
                permissions=("statistics.read",)),
    )),
    NavSection("分析评价", (
        NavItem("behaviour", "行为分析", "/behaviour", "监管行为分析（再监管）：事项覆盖率、全过程留痕、及时性，按部门和期间统计。", permissions=("evaluations.read", "statistics.read", "warnings.handle")),
        NavItem("evaluations", "效能评价", "/evaluations", "监管效能评估评价：加权指标体系、评价运行、部门得分与排名。", permissions=("evaluations.read", "evaluations.manage", "warnings.handle")),
        NavItem("reports", "分析报告", "/reports", "分析报告：每半年自动生成的分析报告及归档。",
                permissions=("reports.read",)),
    )),
    NavSection("集成对接", (
        NavItem("entities", "监管对象", "/entities", "监管对象：按名称或统一社会信用代码检索，查看监管行为、投诉举报与信用记录时间轴。"),
        NavItem("items", "监管事项", "/items", "监管事项目录：事项编码、名称、实施部门、类别与设定依据。"),
        NavItem("sources", "数据源", "/sources", "数据源：一期平台、部门系统与数据中心主题库的接入状态、导入批次与错误。"),
        NavItem("imports", "数据导入", "/imports", "数据导入：上传 CSV / Excel / JSONL 文件，查看导入进度、批次与错误报告。",
                permissions=("data.ingest",)),
    )),
    NavSection("系统", (
        NavItem("jobs", "后台任务", "/jobs", "后台任务：导入、训练、评分与报告的进度和结果。",
                permissions=("jobs.read",)),
        NavItem("users", "用户", "/admin/users", "用户管理：账号、角色、所属部门、停用与重置密码。",
                permissions=("users.manage",)),
        NavItem("departments", "部门", "/admin/departments", "部门管理：部门编码、名称、层级与行政区划。",
                permissions=("departments.manage",)),
        NavItem("audit", "审计日志", "/admin/audit", "审计日志：所有变更、登录与失败登录的全留痕记录。",
                permissions=("audit.read",)),
    )),
)


def visible_sections(actor: Actor | None) -> list[tuple[NavSection, list[NavItem]]]:
    """The sections with the items `actor` may open; sections left empty are dropped."""
    out = [(section, [item for item in section.items if item.visible_to(actor)]) for section in NAVIGATION]
    return [(section, items) for section, items in out if items]


def find_item(key: str) -> NavItem | None:
    return next((item for section in NAVIGATION for item in section.items if item.key == key), None)
