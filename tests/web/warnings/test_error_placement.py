"""Domain errors name their fields in snake_case; each message lands next to its own input on the page."""

import pytest

from tests.domain.warnings.support import build_city

HTML = {"accept": "text/html"}


@pytest.fixture
def city(db, acting):
    with db.unit_of_work() as session:
        c = build_city(session)
    acting.actor = c.analyst
    return c


async def test_routing_rule_errors_sit_next_to_their_inputs(client, city):
    bad = await client.post("/warnings/routing", data={"kind": "district", "department_code": "NOPE",
                                                        "region_code": "3205"}, headers=HTML)
    assert bad.status_code == 422
    assert 'data-error-for="department_code">责任部门：代码“NOPE”不存在<' in bad.text
    assert 'data-error-for="region_code">行政区划：“3205”应为6位数字代码' in bad.text
    item = await client.post("/warnings/routing", data={"kind": "item", "department_code": "NOPE",
                                                         "item_code": "NO-SUCH-ITEM"}, headers=HTML)
    assert 'data-error-for="item_code">监管事项：编码“NO-SUCH-ITEM”不存在<' in item.text


async def test_risk_list_filter_errors_sit_next_to_the_score_inputs(client, city):
    order = await client.get("/analysis", params={"score_min": "0.9", "score_max": "0.1"}, headers=HTML)
    assert 'data-error-for="score_min">最低评分高于最高评分<' in order.text
    typo = await client.get("/analysis", params={"score_min": "x"}, headers=HTML)
    assert 'data-error-for="score_min">最低评分：“x”不是数字<' in typo.text
