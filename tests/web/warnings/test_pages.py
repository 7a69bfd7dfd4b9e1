"""Clue, judgement, warning, risk list and routing pages over real HTTP (ASGI), as analyst and as handler."""

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from domain.warnings.models import RiskClue, Warning
from tests.domain.warnings.support import build_city, score
from tests.support import count_statements

HTML = {"accept": "text/html"}
HTMX = {"hx-request": "true"}


@pytest.fixture
def city(db, acting):
    with db.unit_of_work() as session:
        c = build_city(session)
        e = c.entities
        score(session, c.run, e[0], 0.93, "red", rules=["R001"])
        score(session, c.run, e[1], 0.66, "orange")
        score(session, c.run, e[2], 0.30, "blue")
    acting.actor = c.analyst
    return c


async def test_manual_clue_then_judgement_into_an_orange_warning(client, db, city):
    form = {"uscc": city.entities[1].uscc, "source": "manual", "category": "食品安全",
            "description": "群众反映销售过期食品", "received_on": date.today().isoformat()}
    check = await client.post("/clues", data={**form, "category": "", "_validate": "1"}, headers=HTMX)
    assert check.status_code == 200 and 'data-error-for="category"' in check.text and "必填" in check.text
    with db.unit_of_work() as s:
        assert s.exec(select(RiskClue)).all() == []  # validation keeps nothing
    saved = await client.post("/clues", data=form, headers=HTML)
    assert saved.status_code == 303
    clue_url = saved.headers["location"]
    page = await client.get(clue_url)
    assert "研判结论" in page.text and "派发规则建议：苏州市市场监督管理局（默认部门）" in page.text
    with db.unit_of_work() as s:  # the new clue's entity was scored on demand by the champion
        from domain.risk.models import RiskScore, ScoringRun

        run = s.exec(select(ScoringRun).where(ScoringRun.role == "on_demand")).one()
        assert s.exec(select(RiskScore).where(RiskScore.run_id == run.id)).one().entity_id == city.entities[1].id
    assert "模型建议：" in page.text
    judged = await client.post(f"{clue_url}/judge", data={"decision": "issue", "level": "orange",
                                                           "department_id": str(city.market.id),
                                                           "reasons": "群众举报\n近90天检查不合格"}, headers=HTML)
    assert judged.status_code == 303 and judged.headers["location"].startswith("/warnings/")
    detail = await client.get(judged.headers["location"])
    assert "YJ-" in detail.text and "群众举报" in detail.text and 'id="warning-actions"' in detail.text
    listing = await client.get("/warnings", params={"level": "orange"})
    with db.unit_of_work() as s:
        w = s.exec(select(Warning)).one()
    assert w.code in listing.text and 'data-due="disposal"' in listing.text


async def test_dismissing_without_a_reason_is_refused_in_chinese(client, db, city):
    with db.unit_of_work() as s:
        clue = RiskClue(uscc=city.entities[0].uscc, entity_id=city.entities[0].id, source="manual", category="a",
                        description="b", received_on=date(2026, 3, 1))
        s.add(clue)
        s.flush()
        clue_id = clue.id
    response = await client.post(f"/clues/{clue_id}/judge", data={"decision": "dismiss"}, headers=HTML)
    assert response.status_code == 422 and "排除线索须填写理由" in response.text


async def test_risk_list_filters_and_exports_the_view(client, city):
    page = await client.get("/analysis", params={"level": "red"})
    assert page.status_code == 200
    assert city.entities[0].name in page.text and city.entities[1].name not in page.text
    assert "近90天检查不合格次数 2（+0.42）" in page.text
    fragment = await client.get("/analysis", params={"search": city.entities[1].name}, headers=HTMX)
    assert fragment.text.lstrip().startswith('<div id="risk-results">') and city.entities[1].name in fragment.text
    export = await client.get("/analysis/export.xlsx", params={"level": "red"})
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("排名", "监管对象", "统一社会信用代码")
    assert [r[2] for r in rows[1:]] == [city.entities[0].uscc] and rows[1][6] == "红色"
    bad = await client.get("/analysis", params={"score_min": "x"})
    assert bad.status_code == 200 and "最低评分" in bad.text


async def test_handlers_see_only_their_department(client, db, acting, city):
    from domain.warnings.service import issue_warning

    with db.unit_of_work() as s:
        mine = issue_warning(s, city.analyst, entity_id=city.entities[0].id, level="red", reasons=["a"],
                             department_id=city.health.id)
        other = issue_warning(s, city.analyst, entity_id=city.entities[1].id, level="red", reasons=["b"])
        mine_code, other_code, other_id = mine.code, other.code, other.id
    acting.actor = city.handler
    listing = await client.get("/warnings")
    assert mine_code in listing.text and other_code not in listing.text
    assert (await client.get(f"/warnings/{other_id}", headers=HTML)).status_code == 404
    risk = await client.get("/analysis")
    assert city.entities[0].name in risk.text and city.entities[1].name not in risk.text


async def test_routing_page_saves_rules_and_previews(client, db, city):
    from domain.warnings.service import issue_warning

    with db.unit_of_work() as s:
        issue_warning(s, city.analyst, entity_id=city.entities[0].id, level="red", reasons=["a"])
    bad = await client.post("/warnings/routing", data={"kind": "district", "department_code": "WZ-SCJG",
                                                        "region_code": "3205"}, headers=HTML)
    assert bad.status_code == 422 and "应为6位数字代码" in bad.text
    ok = await client.post("/warnings/routing", data={"kind": "district", "department_code": "WZ-SCJG",
                                                       "region_code": "320505"}, headers=HTML)
    assert ok.status_code == 303
    page = await client.get("/warnings/routing")
    assert "行政区划 320505" in page.text and "吴中区市场监督管理局" in page.text
    assert 'class="table-warning"' in page.text  # the open warning would now go elsewhere


async def test_entity_page_loads_its_risk_panel(client, db, acting, city):
    e = city.entities[0]
    page = await client.get(f"/entities/{e.uscc}")
    assert f'hx-get="/analysis/entities/{e.id}"' in page.text
    panel = await client.get(f"/analysis/entities/{e.id}", headers=HTMX)
    assert panel.text.lstrip().startswith('<div id="entity-risk"') and "0.930" in panel.text
    assert "命中规则：R001" in panel.text and "score-history-data" in panel.text
    acting.actor = city.handler  # no warning of theirs about this entity: the slot stays empty
    assert (await client.get(f"/analysis/entities/{e.id}", headers=HTMX)).text == ""
    assert (await client.get(f"/analysis/entities/{e.id}", headers=HTML)).status_code == 403


async def test_an_admin_sets_deadlines_and_workdays_on_the_page(client, db, acting, city):
    from tests.domain.warnings.support import actor

    with db.unit_of_work() as s:
        admin = actor(s, "admin-wu", ["admin"])
    acting.actor = admin
    bad = await client.post("/warnings/deadlines", data={"level": "orange", "receipt_days": "1",
                                                          "receipt_day_kind": "working", "disposal_days": "0",
                                                          "disposal_day_kind": "working"}, headers=HTML)
    assert bad.status_code == 422 and "应在 1–365 之间" in bad.text
    ok = await client.post("/warnings/deadlines", data={"level": "orange", "receipt_days": "1",
                                                         "receipt_day_kind": "working", "disposal_days": "5",
                                                         "disposal_day_kind": "working"}, headers=HTML)
    assert ok.status_code == 303
    await client.post("/warnings/workdays", data={"day": "2031-01-04", "is_workday": "0", "note": "临时"},
                      headers=HTML)
    page = await client.get("/warnings/routing")
    assert 'data-day="2031-01-04"' in page.text and "临时" in page.text
    acting.actor = city.analyst  # analysts edit routing, not the calendar
    refused = await client.post("/warnings/workdays", data={"day": "2031-01-05", "is_workday": "1"}, headers=HTML)
    assert refused.status_code == 403 and "2031-01-05" not in (await client.get("/warnings/routing")).text


async def test_the_warnings_page_costs_the_same_whatever_its_length(client, db, city):
    from domain.warnings.service import issue_warning

    def issue(entities):
        with db.unit_of_work() as s:
            return [issue_warning(s, city.analyst, entity_id=e.id, level="orange", reasons=["r"]).code
                    for e in entities]

    first = issue(city.entities[:1])
    await client.get("/warnings", headers=HTML)  # signed in (the first request signs in through the form)
    with count_statements(db) as one:
        page = await client.get("/warnings", headers=HTML)
    assert first[0] in page.text
    more = issue(city.entities[1:4])
    with count_statements(db) as four:
        page = await client.get("/warnings", headers=HTML)
    assert all(code in page.text for code in first + more) and "共 4 条" in page.text
    assert four.count == one.count


def test_the_list_reads_its_rows_in_one_statement_and_they_match_the_warning(db, city):
    """list_warnings (this page and GraphQL's riskWarnings alike) reads a page's rows in one statement: the window
    with entity and department names and the last event joined to it, whatever GraphQL asks of the rows (the
    snapshots, the entity's columns and the event's text only when asked). Every row matches the warning's own."""
    from domain.pagination import PageRequest
    from domain.warnings.service import (
        ListShape,
        WarningFilter,
        add_warning_event,
        get_warning,
        issue_warning,
        list_warnings,
    )
    from tests.support import count_statements

    with db.unit_of_work() as s:
        warnings = [issue_warning(s, city.analyst, entity_id=e.id, level=level, reasons=["r"],
                                  department_id=city.health.id if i % 2 else None)
                    for i, (e, level) in enumerate(zip(city.entities[:5], ("red", "orange", "yellow", "red", "blue"),
                                                       strict=True))]
        s.flush()
        add_warning_event(s, city.handler, warnings[1], "comment", comment="已电话联系")  # a later last event
        commented = warnings[1].id

    def key(row):
        event = row.last_event
        return (row.warning.id, row.warning.code, row.warning.level, row.warning.status, row.warning.created_at,
                row.entity_uscc, row.entity_name, row.department_name, row.department_code, row.overdue,
                event and (event.id, event.kind, event.actor_name, event.at))

    full = ListShape(snapshots=True, entity=True, event_text=True)
    seen = 0
    for actor in (city.analyst, city.handler):
        for f in (WarningFilter(), WarningFilter(level="red"), WarningFilter(department_id=city.health.id)):
            for req in (PageRequest(first=2), PageRequest(first=2, after=1), PageRequest(first=10),
                        PageRequest(first=10, count=False)):
                with db.unit_of_work("read") as s:
                    with count_statements(db) as plain_sql:
                        plain = list_warnings(s, actor, req, f)
                    with count_statements(db) as full_sql:
                        rich = list_warnings(s, actor, req, f, shape=full)
                    assert plain_sql.count == full_sql.count == (1 if plain.items or not req.count else 2)
                    assert [key(r) for r in plain.items] == [key(r) for r in rich.items]
                    assert (plain.total, plain.has_next, plain.has_previous) == (
                        rich.total, rich.has_next, rich.has_previous)
                    for r, rr in zip(plain.items, rich.items, strict=True):
                        assert r.warning.reasons == [] and r.warning.explanation == {} and r.entity is None
                        detail = get_warning(s, actor, r.warning.id)
                        assert key(detail.row) == key(rr)
                        assert rr.warning.reasons == detail.warning.reasons == [{"text": "r"}]
                        assert rr.warning.explanation == detail.warning.explanation
                        assert (rr.entity.id, rr.entity.uscc) == (detail.warning.entity_id, rr.entity_uscc)
                        assert (rr.last_event.comment, rr.last_event.payload) == (
                            detail.events[-1].comment, detail.events[-1].payload)
                        assert r.last_event.comment == ""  # not read unless asked
                        seen += 1
    assert seen
    with db.unit_of_work("read") as s:
        rows = {r.warning.id: r for r in list_warnings(s, city.analyst, PageRequest(first=10)).items}
    assert rows[commented].last_event.kind == "comment" and rows[commented].last_event.actor_name
