"""Lists over GraphQL (issue 9): a fixed number of statements whatever the page size, the total counted only when
`totalCount` is selected, keyset cursors that survive inserts between pages, and (PostgreSQL) plans that walk
the list's index instead of sorting a department's rows."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from api.pagination import encode_cursor
from domain.audit.models import AuditLog
from domain.supervision.models import Entity, SupervisionAction
from tests.api.identity.factories import bearer
from tests.domain.supervision.factories import seed_basics, uscc
from tests.support import backend, count_statements, explain


@pytest.fixture
def basics(session):
    return seed_basics(session, entities=3)


def add_actions(session, basics, n: int, *, start: int = 0, department: int = 0, day0: date = date(2025, 1, 1),
                step: int = 1) -> None:
    dept, source = basics["departments"][department], basics["sources"][2]
    entities, items = basics["entities"], basics["items"]
    session.add_all([SupervisionAction(
        source_id=source.id, external_id=f"X-{department}-{start + i}", kind="inspection", department_id=dept.id,
        entity_id=entities[i % len(entities)].id, item_id=items[i % 2].id if i % 5 else None,
        started_on=day0 + timedelta(days=(i * step) % 400)) for i in range(n)])
    session.commit()


async def gql(client, query, token, variables=None):
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                 headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


ACTIONS = """query($first: Int, $after: String) { supervisionActions(departmentCode: "SZ-SCJG", first: $first,
    after: $after) { %s nodes { id externalId itemName departmentName entityName startedOn }
    pageInfo { hasNextPage hasPreviousPage endCursor } } }"""

LISTS = {
    "supervisionActions": 'supervisionActions(departmentCode: "SZ-SCJG", first: $n) { totalCount nodes { externalId '
                          "itemCode itemName departmentName uscc entityName sourceCode } }",
    "entities": "entities(first: $n) { totalCount nodes { uscc name } }",
    "supervisionItems": "supervisionItems(first: $n) { totalCount nodes { code departmentName actionCount } }",
    "users": "users(first: $n) { totalCount nodes { username department { code } } }",
    "auditLog": "auditLog(first: $n) { totalCount nodes { action actorName } }",
    "departments": "departments(first: $n) { totalCount nodes { code } }",
    "entity.actions": 'entity(uscc: "%s") { actions(first: $n) { totalCount nodes { externalId itemName } } '
                      "complaints(first: $n) { totalCount } creditRecords(first: $n) { totalCount } }",
}


@pytest.mark.parametrize("name", list(LISTS))
async def test_a_page_costs_the_same_statements_whatever_its_size(client, db, session, basics, api_token, name):
    add_actions(session, basics, 60)
    session.add_all([Entity(uscc=uscc(500 + i), name=f"追加企业{i:02d}", entity_type="enterprise") for i in range(40)])
    session.commit()
    body = LISTS[name] % uscc(0) if "%s" in LISTS[name] else LISTS[name]
    query = "query($n: Int) { " + body + " }"
    counts = []
    for size in (3, 40):  # both pages hold rows with each relation
        await gql(client, query, api_token, {"n": size})  # warm
        with count_statements(db) as counter:
            data = await gql(client, query, api_token, {"n": size})
        counts.append(counter.count)
        assert data
    assert counts[0] == counts[1], counts


async def test_the_total_is_counted_only_when_totalCount_is_selected(client, db, session, basics, api_token):
    add_actions(session, basics, 30)
    await gql(client, ACTIONS % "", api_token, {"first": 10})  # warm (the token's first use is recorded)
    with count_statements(db) as without:
        data = await gql(client, ACTIONS % "", api_token, {"first": 10})
    assert len(data["supervisionActions"]["nodes"]) == 10
    assert not any("count(" in s.lower() for s in without.statements), without.statements
    with count_statements(db) as with_total:
        data = await gql(client, ACTIONS % "totalCount", api_token, {"first": 10})
    assert data["supervisionActions"]["totalCount"] == 30
    assert with_total.count == without.count  # the count rides on the window's statement
    assert sum("count(" in s.lower() for s in with_total.statements) == 1
    # through a named fragment, an inline fragment, and a fragment spread inside an inline fragment, and not when
    # only a nested field of the same name is selected elsewhere
    for selection, fragments in (
            ("...counted nodes { id }", "fragment counted on SupervisionActionConnection { totalCount }"),
            ("... { totalCount } nodes { id }", ""),
            ("... on SupervisionActionConnection { ...deeper } nodes { id }",
             "fragment deeper on SupervisionActionConnection { pageInfo { hasNextPage } ...counted } "
             "fragment counted on SupervisionActionConnection { totalCount }")):
        query = f'query {{ supervisionActions(departmentCode: "SZ-SCJG", first: 5) {{ {selection} }} }} {fragments}'
        with count_statements(db) as counted:
            body = (await client.post("/graphql", json={"query": query}, headers=bearer(api_token))).json()
        assert "errors" not in body, body
        assert body["data"]["supervisionActions"]["totalCount"] == 30
        assert sum("count(" in s.lower() for s in counted.statements) == 1, selection
    with count_statements(db) as counted:
        body = (await client.post("/graphql", json={"query": (
            'query { supervisionActions(departmentCode: "SZ-SCJG", first: 5) { ...paged } } '
            "fragment paged on SupervisionActionConnection { nodes { id } pageInfo { hasNextPage } }")},
            headers=bearer(api_token))).json()
    assert "errors" not in body and len(body["data"]["supervisionActions"]["nodes"]) == 5, body
    assert not any("count(" in s.lower() for s in counted.statements)
    # nested windows carry their totals in the window's own statement: no count query, asked or not
    nested = 'query { entity(uscc: "%s") { actions(first: 2) { %s nodes { id } } complaints { %s nodes { id } } } }'
    counts = []
    for total in ("", "totalCount"):
        with count_statements(db) as counter:
            data = await gql(client, nested % (uscc(0), total, total), api_token)
        assert not any(s.lower().lstrip().startswith("select count(") for s in counter.statements)
        counts.append(counter.count)
    assert counts[0] == counts[1] and data["entity"]["actions"]["totalCount"] == 10


async def test_keyset_cursors_neither_skip_nor_repeat_rows_inserted_between_pages(client, session, basics,
                                                                                   api_token):
    add_actions(session, basics, 25)
    original = [row.external_id for row in session.execute(
        sa.select(SupervisionAction.external_id).where(SupervisionAction.department_id == basics["departments"][0].id)
        .order_by(SupervisionAction.started_on.desc(), SupervisionAction.id.desc()))]
    seen: list[str] = []
    after = None
    for n in range(20):
        data = (await gql(client, ACTIONS % "", api_token, {"first": 4, "after": after}))["supervisionActions"]
        seen += [node["externalId"] for node in data["nodes"]]
        assert data["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
        # newer, older and same-day rows arrive between two requests
        add_actions(session, basics, 3, start=1000 + 3 * n, day0=date(2024, 12, 30), step=200)
    assert len(seen) == len(set(seen))
    assert [x for x in seen if x in set(original)] == original
    assert "2025" not in (after or "") and after is not None


async def test_last_and_before_keep_their_page_info(client, session, basics, api_token):
    add_actions(session, basics, 9)
    query = """query($last: Int, $before: String) { supervisionActions(departmentCode: "SZ-SCJG", last: $last,
        before: $before) { nodes { externalId } pageInfo { hasNextPage hasPreviousPage startCursor } } }"""
    tail = (await gql(client, query, api_token, {"last": 4}))["supervisionActions"]
    assert len(tail["nodes"]) == 4 and tail["pageInfo"]["hasPreviousPage"] and not tail["pageInfo"]["hasNextPage"]
    before = (await gql(client, query, api_token, {"last": 10, "before": tail["pageInfo"]["startCursor"]}))
    page = before["supervisionActions"]
    assert len(page["nodes"]) == 5 and not page["pageInfo"]["hasPreviousPage"] and page["pageInfo"]["hasNextPage"]
    everything = [n["externalId"] for n in (await gql(client, ACTIONS % "", api_token, {"first": 20}))
                  ["supervisionActions"]["nodes"]]
    assert [n["externalId"] for n in page["nodes"] + tail["nodes"]] == everything


async def test_a_cursor_from_another_list_is_refused_with_a_clear_error(client, session, basics, api_token):
    add_actions(session, basics, 3)
    cursor = (await gql(client, ACTIONS % "", api_token, {"first": 1}))["supervisionActions"]["pageInfo"]["endCursor"]
    response = await client.post("/graphql", json={
        "query": "query($a: String) { entities(first: 2, after: $a) { nodes { uscc } } }", "variables": {"a": cursor}},
        headers=bearer(api_token))
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "bad_cursor" and "游标" in error["message"]


# --- PostgreSQL plans ----------------------------------------------------------------------------------------

@pytest.mark.skipif(backend() != "postgresql", reason="PostgreSQL plans")
def test_hot_lists_walk_their_index_instead_of_sorting(db, session, basics):
    from domain.audit.queries import list_audit
    from domain.identity.actor import SYSTEM
    from domain.pagination import PageRequest, decode_cursor
    from domain.supervision.service import list_actions, search_entities

    dept_a, dept_b = (d.id for d in basics["departments"])
    source, item = basics["sources"][2].id, basics["items"][0].id
    conn = session.connection()
    conn.execute(sa.text("""INSERT INTO entity (uscc, name, entity_type, region_code, status, updated_at)
        SELECT 'E' || lpad(g::text, 17, '0'), '企业' || lpad((g * 7919 % 20000)::text, 5, '0'), 'enterprise',
               CASE WHEN g % 4 = 0 THEN '320506' ELSE '320505' END, 'active', now()
        FROM generate_series(1, 20000) g"""))
    first_entity = basics["entities"][0].id
    conn.execute(sa.text("""INSERT INTO supervision_action (source_id, external_id, kind, item_id, department_id,
            entity_id, started_on, updated_at)
        SELECT :source, 'G-' || g, 'inspection', CASE WHEN g % 3 = 0 THEN :item END,
               CASE WHEN g % 5 = 0 THEN :a ELSE :b END, :entity, DATE '2024-01-01' + (g % 700), now()
        FROM generate_series(1, 30000) g"""), {"source": source, "item": item, "a": dept_a, "b": dept_b,
                                               "entity": first_entity})
    conn.execute(sa.text("""INSERT INTO audit_log (occurred_at, actor_name, action, object_type, changes)
        SELECT now() - (g || ' minutes')::interval, 'system', 'x.test', 'x', '{}'
        FROM generate_series(1, 20000) g"""))
    session.commit()
    for table in ("entity", "supervision_action", "audit_log"):
        session.connection().exec_driver_sql(f"ANALYZE {table}")

    def no_sort(plans: list[str], index: str) -> None:
        """Under the window's LIMIT: the list's index, and no sort (the page's 51 rows may be sorted above it)."""
        plan = next(p for p in plans if "Limit" in p)
        lines = plan.splitlines()
        at = next(i for i, line in enumerate(lines) if "Limit" in line)
        depth = len(lines[at]) - len(lines[at].lstrip(" ->"))
        below = []
        for line in lines[at + 1:]:
            if len(line) - len(line.lstrip(" ->")) <= depth:
                break
            below.append(line)
        window = "\n".join(below)
        assert index in window, plan
        assert "Sort" not in window, plan

    first = None

    def actions(s):
        nonlocal first
        first = list_actions(s, SYSTEM, PageRequest(first=50), department_code="SZ-SCJG")

    no_sort(explain(db, session, actions), "ix_supervision_action_department_started_id")
    assert first is not None and first.total == 6000
    no_sort(explain(db, session, lambda s: list_actions(s, SYSTEM, PageRequest(
        first=50, after=decode_cursor(first.cursors[-1]), count=False), department_code="SZ-SCJG")),
        "ix_supervision_action_department_started_id")
    no_sort(explain(db, session, lambda s: list_actions(s, SYSTEM, PageRequest(first=50, count=False),
                                                       item_code=basics["items"][0].code)),
            "ix_supervision_action_item_started_id")
    no_sort(explain(db, session, lambda s: list_actions(s, SYSTEM, PageRequest(first=50, count=False))),
            "ix_supervision_action_started_id")
    no_sort(explain(db, session, lambda s: search_entities(s, SYSTEM, PageRequest(first=50, count=False))),
            "ix_entity_name_id")
    no_sort(explain(db, session, lambda s: search_entities(s, SYSTEM, PageRequest(first=50, count=False),
                                                          region_code="320506")), "ix_entity_region_name_id")
    no_sort(explain(db, session, lambda s: list_audit(s, SYSTEM, PageRequest(first=50, count=False))),
            "ix_audit_log_occurred_id")
    assert session.execute(sa.select(sa.func.count()).select_from(AuditLog)).scalar_one() >= 20000


async def test_an_entity_and_its_nested_windows_are_read_in_one_unit_of_work(client, db, session, basics, api_token,
                                                                            monkeypatch):
    from api.context import Context

    add_actions(session, basics, 12)
    reads = []
    original = Context.read

    async def counted(self, fn, *args, **kwargs):
        reads.append(getattr(fn, "__name__", str(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(Context, "read", counted)
    query = """query($u: String!, $n: Int) { entity(uscc: $u) { name actions(first: $n) { totalCount
        nodes { externalId } pageInfo { hasNextPage } } complaints(first: 3) { nodes { id } }
        creditRecords { totalCount } } }"""
    data = (await gql(client, query, api_token, {"u": uscc(0), "n": 2}))["entity"]
    assert reads == ["_entity_with_windows"]
    assert data["actions"]["totalCount"] == 4 and len(data["actions"]["nodes"]) == 2
    assert data["actions"]["pageInfo"]["hasNextPage"] and data["creditRecords"]["totalCount"] == 0
    reads.clear()  # an odd argument is left to the nested resolver, which reports it
    response = await client.post("/graphql", json={"query": query, "variables": {"u": uscc(0), "n": 1000}},
                                 headers=bearer(api_token))
    assert response.json()["errors"][0]["extensions"]["code"] == "page_size_too_large"


async def test_an_entity_and_its_three_nested_windows_are_one_statement_besides_the_token(client, db, session,
                                                                                         basics, api_token):
    add_actions(session, basics, 12)
    query = """query($u: String!, $a: String) { entity(uscc: $u) { name actions(first: 2, after: $a) { totalCount
        nodes { externalId itemName departmentName startedOn } pageInfo { hasNextPage hasPreviousPage } }
        complaints(first: 3) { totalCount nodes { id } } creditRecords { totalCount nodes { kind } } } }"""
    await gql(client, query, api_token, {"u": uscc(0)})  # warm
    with count_statements(db) as counted:
        data = (await gql(client, query, api_token, {"u": uscc(0)}))["entity"]
    assert counted.count == 2, counted.statements
    actions = data["actions"]
    assert actions["totalCount"] == 4 and len(actions["nodes"]) == 2 and actions["pageInfo"]["hasNextPage"]
    days = [n["startedOn"] for n in actions["nodes"]]
    assert days == sorted(days, reverse=True) and data["complaints"] == {"totalCount": 0, "nodes": []}
    # a window past the end of the list still knows the list's total
    past = (await gql(client, query, api_token, {"u": uscc(0), "a": encode_cursor(10)}))["entity"]["actions"]
    assert past == {"totalCount": 4, "nodes": [], "pageInfo": {"hasNextPage": False, "hasPreviousPage": True}}


async def test_nested_windows_asked_by_variable_alias_or_fragment_are_read_right(client, db, session, basics,
                                                                                 api_token):
    add_actions(session, basics, 12)
    direct = """query($u: String!, $n: Int) { entity(uscc: $u) { a: actions(first: $n) { totalCount
        nodes { externalId } } } }"""
    await gql(client, direct, api_token, {"u": uscc(0), "n": 3})  # warm
    with count_statements(db) as counted:
        data = (await gql(client, direct, api_token, {"u": uscc(0), "n": 3}))["entity"]
    assert counted.count == 2, counted.statements  # the variable's window read with the entity (besides the token)
    assert data["a"]["totalCount"] == 4 and len(data["a"]["nodes"]) == 3
    # through a fragment: left to the nested resolver, the same answer (one more statement)
    spread = """query($u: String!) { entity(uscc: $u) { ...W } }
        fragment W on Entity { actions(first: 3) { totalCount nodes { externalId } } }"""
    with count_statements(db) as through_fragment:
        via = (await gql(client, spread, api_token, {"u": uscc(0)}))["entity"]
    assert via["actions"]["nodes"] == data["a"]["nodes"] and via["actions"]["totalCount"] == 4
    assert through_fragment.count == 3, through_fragment.statements


def test_the_one_statement_windows_answer_as_each_relations_own_read(session, basics):
    """entity_with_windows orders its UNION in SQL (the entity, then each window newest first, ties on a day by id)
    and reads each part's rows into records at once: the same rows, values and order as the per-relation reads the
    loaders use, for every window, a page further on included."""
    from domain.identity.actor import SYSTEM
    from domain.supervision.models import Complaint, CreditRecord
    from domain.supervision.service import (
        actions_for_entities,
        complaints_for_entities,
        credit_for_entities,
        entity_with_windows,
    )

    add_actions(session, basics, 30, step=7)  # 10 for each entity, several on one day (i * 7 % 400 repeats none;
    add_actions(session, basics, 9, start=100, step=0)  # ... these 9 all fall on 2025-01-01)
    entity, source = basics["entities"][0], basics["sources"][2]
    session.add_all([Complaint(source_id=source.id, external_id=f"C-{i}", entity_id=entity.id,
                               received_on=date(2025, 3, 1) + timedelta(days=i // 3), channel="12345",
                               category=f"类别{i}") for i in range(7)])
    session.add_all([CreditRecord(source_id=source.id, external_id=f"R-{i}", entity_id=entity.id,
                                  kind="abnormal_operation", listed_on=date(2024, 5, 1) + timedelta(days=i % 2))
                     for i in range(5)])
    session.commit()
    reads = {"actions": actions_for_entities, "complaints": complaints_for_entities, "credit": credit_for_entities}

    def plain(rows):
        return [{"names": (r.item_code, r.item_name, r.department_code, r.department_name, r.entity_uscc,
                           r.entity_name, r.source_code)} if hasattr(r, "action")
                else {k: getattr(r, k) for k in ("id", "external_id", "received_on", "listed_on", "kind", "channel",
                                                   "category") if hasattr(r, k)} for r in rows]

    for offset, limit, count in ((0, 6, True), (0, 21, False), (4, 3, True)):
        windows = {name: (offset, limit, count) for name in reads}
        got, found = entity_with_windows(session, SYSTEM, entity.uscc, windows)
        assert got.id == entity.id and got.uscc == entity.uscc
        for name, read in reads.items():
            rows, total = read(session, SYSTEM, [entity.id], offset=offset, limit=limit, count=count)[entity.id]
            mine, my_total = found[name]
            assert [r.action.id if hasattr(r, "action") else r.id for r in mine] == \
                [r.action.id if hasattr(r, "action") else r.id for r in rows], (name, offset, limit)
            size = {"actions": 13, "complaints": 7, "credit": 5}[name]
            assert (my_total == total if count else my_total == -1) and len(mine) == min(limit, max(0, size - offset))
            if name != "actions":  # the ORM's objects beside the records: the same values
                assert plain(mine) == plain(rows)
            else:
                assert [p["names"] for p in plain(mine)] == [p["names"] for p in plain(rows)]
                assert [(r.action.started_on, r.action.external_id) for r in mine] == \
                    [(r.action.started_on, r.action.external_id) for r in rows]


def test_the_shared_slots_of_the_one_statement_windows_give_every_column_its_own_value_and_type(session, basics):
    """The parts of entity_with_windows' UNION share their columns by type (texts with texts, dates with dates, …):
    every column of the entity and of each window's rows reads back as the ORM reads it — the same value of the
    same Python type (a Decimal stays a Decimal, a timestamp keeps its zone), NULLs where the row has none."""
    from decimal import Decimal

    from sqlmodel import select as orm_select

    from domain.identity.actor import SYSTEM
    from domain.supervision.models import Complaint, CreditRecord, Entity, SupervisionAction
    from domain.supervision.service import entity_with_windows

    add_actions(session, basics, 6)
    entity, source = basics["entities"][0], basics["sources"][2]
    entity.registered_capital = Decimal("1234567.89")
    action = session.exec(orm_select(SupervisionAction).where(SupervisionAction.entity_id == entity.id)).first()
    action.kind, action.penalty_amount, action.document_number = "penalty", Decimal("500.05"), "苏市监罚〔2025〕1号"
    action.decided_on, action.officers, action.trigger = date(2025, 6, 2), "张三、李四", "complaint"
    session.add_all([Complaint(source_id=source.id, external_id="C-1", entity_id=entity.id,
                               received_on=date(2025, 3, 1), channel="12345", category="食品安全",
                               responded_on=date(2025, 3, 9), outcome="已答复"),
                     CreditRecord(source_id=source.id, external_id="R-1", entity_id=entity.id,
                                  kind="abnormal_operation", listed_on=date(2024, 5, 1), removed_on=date(2024, 9, 1),
                                  authority="苏州市市场监督管理局", reason="未按期年报")])
    session.commit()
    got, found = entity_with_windows(session, SYSTEM, entity.uscc, {name: (0, 21, True) for name in
                                                                     ("actions", "complaints", "credit")})

    def values(record, model):
        return {c.key: (getattr(record, c.key), type(getattr(record, c.key))) for c in sa.inspect(model).columns}

    session.expire_all()
    assert values(got, Entity) == values(session.get(Entity, entity.id), Entity)
    for name, model, of in (("actions", SupervisionAction, lambda r: r.action), ("complaints", Complaint, None),
                            ("credit", CreditRecord, None)):
        rows, total = found[name]
        assert rows and total == len(rows), name
        for row in rows:
            record = of(row) if of else row
            assert values(record, model) == values(session.get(model, record.id), model), (name, record.id)
    penalty = next(r.action for r in found["actions"][0] if r.action.id == action.id)
    assert (penalty.penalty_amount, penalty.officers) == (Decimal("500.05"), "张三、李四")
