"""Reads: riskScores (the risk list as a connection), riskClues / riskClue, riskWarnings / riskWarning."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from api.context import Info
from api.pagination import Connection, build_connection, page_request
from api.warnings.types import RiskClueNode, RiskScoreNode, RiskWarningNode
from domain.errors import InvalidInput
from domain.warnings import clues as clue_service
from domain.warnings import risk_list
from domain.warnings import service as warning_service

__all__ = ["LEAN_ENTITY_FIELDS", "WarningsQuery", "parse_id", "risk_scores_connection", "warning_list_shape"]


def parse_id(value: strawberry.ID | str | None, field: str) -> int | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text.isdigit():
        raise InvalidInput(f"{field} 应为数字编号，收到“{value}”", field=field, code="invalid_id")
    return int(text)


def _fields(selection_set: SelectionSetNode | None, fragments: dict[str, Any], seen: set[str]) -> Iterator[FieldNode]:
    """The fields of a graphql-core selection set, through fragments (each named fragment once)."""
    if selection_set is None:
        return
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            yield sel
        elif isinstance(sel, InlineFragmentNode):
            yield from _fields(sel.selection_set, fragments, seen)
        elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
            seen.add(sel.name.value)
            fragment = fragments.get(sel.name.value)
            if fragment is not None:
                yield from _fields(fragment.selection_set, fragments, seen)


def _node_fields(info: Info) -> Iterator[FieldNode]:
    """The fields selected on the connection's nodes (`nodes { … }` and `edges { node { … } }`), read from
    graphql-core's nodes (Strawberry's `info.selected_fields` converts the whole selection on every call)."""
    raw = info._raw_info
    fragments = raw.fragments
    for connection in raw.field_nodes:
        for f in _fields(connection.selection_set, fragments, set()):
            if f.name.value == "nodes":
                yield from _fields(f.selection_set, fragments, set())
            elif f.name.value == "edges":
                for g in _fields(f.selection_set, fragments, set()):
                    if g.name.value == "node":
                        yield from _fields(g.selection_set, fragments, set())


def warning_list_shape(info: Info) -> tuple[warning_service.ListShape, bool]:
    """What riskWarnings' rows must carry for this selection: snapshots only when reasons, explanation or
    modelVersion are asked, the entity's columns only for an `entity` asked for more than its id, code or name, the
    last event's comment and payload only when asked; and whether the nested entity is *lean* (asked for no more
    than `LEAN_ENTITY_FIELDS`, which every row carries)."""
    names: set[str] = set()
    event: set[str] = set()
    entity: set[str] = set()
    fragments = info._raw_info.fragments
    for f in _node_fields(info):
        names.add(f.name.value)
        if f.name.value == "lastEvent":
            event.update(g.name.value for g in _fields(f.selection_set, fragments, set()))
        elif f.name.value == "entity":
            entity.update(g.name.value for g in _fields(f.selection_set, fragments, set()))
    # the entity's id, code and name come with every row: its own columns only for anything else
    lean = "entity" in names and entity <= LEAN_ENTITY_FIELDS
    return warning_service.ListShape(snapshots=bool(names & {"reasons", "explanation", "modelVersion"}),
                                     entity="entity" in names and not lean,
                                     event_text=bool(event & {"comment", "payload"})), lean


#: the fields of a warning's nested entity that its row answers without the entity's own columns
LEAN_ENTITY_FIELDS = frozenset({"id", "uscc", "name", "__typename"})


async def risk_scores_connection(info: Info, *, first: int | None = None, after: str | None = None,
                                 level: str | None = None, region_code: str | None = None,
                                 industry_section: str | None = None, department_id: strawberry.ID | None = None,
                                 score_min: float | None = None, score_max: float | None = None,
                                 rule: str | None = None, has_open_warning: bool | None = None,
                                 search: str | None = None, uscc: str | None = None) -> Connection[RiskScoreNode]:
    ctx = info.context
    f = risk_list.RiskFilter(level=level, region_code=region_code, industry_section=industry_section,
                             department_id=parse_id(department_id, "departmentId"), score_min=score_min,
                             score_max=score_max, rule=rule, has_open_warning=has_open_warning,
                             search=uscc or search)
    page = await ctx.read(risk_list.list_risk, ctx.actor, page_request(first, after, info=info), f,
                          max_size=ctx.settings.max_page_size)
    return build_connection(page, RiskScoreNode.build)


@strawberry.type
class WarningsQuery:
    @strawberry.field(description="Clues, newest received first (风险线索): filters by status, source, category, "
                                  "reporting department, received dates, entity search.")
    async def risk_clues(self, info: Info, status: str | None = None, source: str | None = None,
                         category: str | None = None, department_id: strawberry.ID | None = None,
                         received_from: date | None = None, received_to: date | None = None,
                         unmatched: bool | None = None, search: str | None = None, first: int | None = None,
                         after: str | None = None) -> Connection[RiskClueNode]:
        ctx = info.context
        f = clue_service.ClueFilter(status=status, source=source, category=category,
                                    department_id=parse_id(department_id, "departmentId"),
                                    received_from=received_from, received_to=received_to,
                                    problem=True if unmatched else None, search=search)
        page = await ctx.read(clue_service.list_clues, ctx.actor, page_request(first, after, info=info), f,
                              max_size=ctx.settings.max_page_size)
        return build_connection(page, RiskClueNode.build)

    @strawberry.field(description="One clue by id (风险线索).")
    async def risk_clue(self, info: Info, id: strawberry.ID) -> RiskClueNode:
        ctx = info.context
        view = await ctx.read(clue_service.judgement_view, ctx.actor, parse_id(id, "id"))
        return RiskClueNode.build(view.row)

    @strawberry.field(description="Warnings, newest first (风险预警): filters by level, status, department, source, "
                                  "overdue, issue dates (Asia/Shanghai), entity search or code. Handlers see their "
                                  "department's only.")
    async def risk_warnings(self, info: Info, level: str | None = None, status: str | None = None,
                            department_id: strawberry.ID | None = None, source: str | None = None,
                            overdue: bool | None = None, created_from: date | None = None,
                            created_to: date | None = None, search: str | None = None,
                            entity_id: strawberry.ID | None = None, first: int | None = None,
                            after: str | None = None) -> Connection[RiskWarningNode]:
        ctx = info.context
        f = warning_service.WarningFilter(level=level, status=status,
                                          department_id=parse_id(department_id, "departmentId"), source=source,
                                          overdue=overdue, created_from=created_from, created_to=created_to,
                                          search=search, entity_id=parse_id(entity_id, "entityId"))
        shape, lean = warning_list_shape(info)
        page = await ctx.read(warning_service.list_warnings, ctx.actor, page_request(first, after, info=info), f,
                              max_size=ctx.settings.max_page_size, shape=shape)
        return build_connection(page, RiskWarningNode.build_lean if lean else RiskWarningNode.build)

    @strawberry.field(description="One warning by id with its entity, department, clues, score, explanation and "
                                  "events (风险预警).")
    async def risk_warning(self, info: Info, id: strawberry.ID) -> RiskWarningNode:
        ctx = info.context
        detail = await ctx.read(warning_service.get_warning, ctx.actor, parse_id(id, "id"))
        return RiskWarningNode.from_detail(detail)
