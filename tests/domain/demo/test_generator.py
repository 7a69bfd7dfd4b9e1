"""The demo city generator, without a database: reproducible, valid, realistic, and with a learnable risk."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import numpy as np
import pytest

from domain.demo.generator import WINDOW_DAYS, DemoCity
from domain.demo.vocabulary import load_departments, load_supervision_items
from domain.reference import load_industries, load_regions
from domain.supervision.fields import COMPLAINT_CHANNEL_LABELS, CREDIT_KIND_LABELS, ENTITY_TYPE_LABELS
from domain.supervision.uscc import region_of, validate_uscc
from tests.domain.demo.signal import features_and_labels

END = date(2026, 6, 30)


def city_records(entities: int, seed: int, end: date = END) -> dict[str, list[dict]]:
    city = DemoCity(entities=entities, seed=seed, end_date=end)
    out: dict[str, list[dict]] = {"entities": [], "actions": [], "complaints": [], "credit": []}
    for chunk in city.chunks():
        out["entities"] += chunk.entity_records()
        out["actions"] += chunk.action_records()
        out["complaints"] += chunk.complaint_records()
        out["credit"] += chunk.credit_records()
    return out


@pytest.fixture(scope="module")
def city() -> dict[str, list[dict]]:
    return city_records(3000, seed=42)


def test_the_same_seed_gives_the_same_city_and_another_seed_another(city):
    assert city_records(3000, seed=42) == city
    other = city_records(3000, seed=43)
    assert {e["uscc"] for e in other["entities"]}.isdisjoint({e["uscc"] for e in city["entities"]})
    assert [e["name"] for e in other["entities"]] != [e["name"] for e in city["entities"]]


def test_a_later_end_date_shifts_the_same_history_in_time():
    early, late = city_records(300, seed=5), city_records(300, seed=5, end=date(2026, 7, 10))
    assert [a["external_id"] for a in early["actions"]] == [a["external_id"] for a in late["actions"]]
    assert all((b["started_on"] - a["started_on"]).days == 10 for a, b in zip(early["actions"], late["actions"],
                                                                                  strict=True))


def test_every_code_is_valid_and_refers_to_known_reference_data(city):
    regions = {r["code"] for r in load_regions()}
    industries = {i["code"] for i in load_industries() if i["level"] == "division"}
    departments = {d["code"]: d for d in load_departments()}
    items = {i["code"]: i for i in load_supervision_items()}
    usccs = set()
    for e in city["entities"]:
        assert validate_uscc(e["uscc"]) == e["uscc"]
        assert region_of(e["uscc"]) == e["region_code"] and e["region_code"] in regions
        assert e["industry_code"] in industries
        assert e["entity_type"] in ENTITY_TYPE_LABELS
        # position 2: 1 enterprise, 2 sole trader, 3 farmers' cooperative
        assert e["uscc"][1] == {"enterprise": "1", "individual": "2", "cooperative": "3"}[e["entity_type"]]
        usccs.add(e["uscc"])
    assert len(usccs) == len(city["entities"])
    for a in city["actions"]:
        assert a["uscc"] in usccs
        dept, item = departments[a["department_code"]], items[a["item_code"]]
        assert item["kind"] == a["kind"]
        # the item belongs to the acting department, or to the city department a district branch acts for
        assert item["department_code"] in (dept["code"], dept["parent_code"])
        if dept["level"] == "district":
            entity_region = a["uscc"][2:8]
            assert dept["region_code"] == entity_region
    for c in city["complaints"]:
        assert c["uscc"] in usccs and c["channel"] in COMPLAINT_CHANNEL_LABELS
    for r in city["credit"]:
        assert r["uscc"] in usccs and r["kind"] in CREDIT_KIND_LABELS


def test_dates_lie_in_the_window_in_order_and_never_in_the_future(city):
    first = date.fromordinal(END.toordinal() - WINDOW_DAYS + 1)
    for e in city["entities"]:
        assert e["founded_on"] <= END and e["founded_on"].year >= END.year - 31
    for a in city["actions"]:
        assert a["started_on"] <= END
        assert a["decided_on"] is None or a["started_on"] <= a["decided_on"] <= END
        if a["kind"] != "penalty":  # a penalty case may open before the window; its decision lies inside
            assert a["started_on"] >= first
    for c in city["complaints"]:
        assert first <= c["received_on"] <= END
        assert c["responded_on"] is None or c["received_on"] < c["responded_on"] <= END
    for r in city["credit"]:
        assert first <= r["listed_on"] <= END
        assert r["removed_on"] is None or r["listed_on"] < r["removed_on"] <= END


def test_each_kind_carries_the_fields_it_requires(city):
    number = re.compile(r"^[\u4e00-\u9fff]+[检罚强告]〔20\d\d〕[1-9]\d*号$")
    for a in city["actions"]:
        assert number.match(a["document_number"]), a["document_number"]
        assert len(a["officers"].split("、")) == 2 and len(set(a["officers"].split("、"))) == 2
        if a["kind"] == "inspection":
            assert a["result"] in ("pass", "fail", "rectify")
        else:
            assert a["result"] is None
        if a["kind"] == "penalty":
            assert a["decided_on"] is not None and 200 <= a["penalty_amount"] <= 5_000_000
        else:
            assert a["penalty_amount"] is None
    numbers = [a["document_number"] for a in city["actions"]]
    assert len(set(numbers)) == len(numbers)


def test_the_city_has_a_realistic_shape(city):
    entities = city["entities"]
    n = len(entities)
    types = Counter(e["entity_type"] for e in entities)
    assert types["enterprise"] > types["individual"] > types["cooperative"] > 0
    assert 0.25 < types["individual"] / n < 0.45 and types["cooperative"] / n < 0.06
    assert Counter(e["status"] for e in entities)["active"] / n > 0.9
    sections = {i["code"]: i["parent_code"] for i in load_industries()}
    enterprise_sections = Counter(sections[e["industry_code"]] for e in entities if e["entity_type"] == "enterprise")
    assert {s for s, _ in enterprise_sections.most_common(2)} == {"C", "F"}  # manufacturing and trade lead
    assert len({e["region_code"] for e in entities}) == 11  # the city and its ten districts
    capital = np.array([e["registered_capital"] for e in entities if e["entity_type"] == "enterprise"])
    assert 50 < np.median(capital) < 500 and capital.max() > 20 * np.median(capital)  # 万元, long-tailed
    assert Counter(e["name"] for e in entities).most_common(1)[0][1] <= 2

    actions = city["actions"]
    kinds = Counter(a["kind"] for a in actions)
    assert kinds["inspection"] > kinds["penalty"] > kinds["other"] > 0 and kinds["coercion"] > 0
    results = Counter(a["result"] for a in actions if a["kind"] == "inspection")
    assert results["pass"] > results["fail"] > 0 and results["rectify"] > 0
    assert len({a["department_code"] for a in actions}) >= 25
    channels = Counter(c["channel"] for c in city["complaints"])
    assert channels.most_common(1)[0][0] == "12345"
    credit = Counter(r["kind"] for r in city["credit"])
    assert credit["abnormal_operation"] > credit["serious_violation"] > 0 and credit["commendation"] > 0


def test_past_penalties_predict_future_ones(city):
    """Entities in the top decile of penalties in year one get clearly more in year two than the bottom half."""
    first_year_end = date.fromordinal(END.toordinal() - 365)
    usccs = [e["uscc"] for e in city["entities"]]
    year1, year2 = Counter(), Counter()
    for a in city["actions"]:
        if a["kind"] == "penalty":
            (year1 if a["decided_on"] <= first_year_end else year2)[a["uscc"]] += 1
    y1 = np.array([year1[u] for u in usccs])
    y2 = np.array([year2[u] for u in usccs])
    order = np.argsort(-y1, kind="stable")
    top, bottom = order[: len(order) // 10], order[len(order) // 2:]
    assert y2[top].mean() > 3 * y2[bottom].mean()


def test_the_hidden_risk_is_learnable_but_noisy():
    """A model trained at one cut-off predicts penalties or failed inspections after a later one: AUC ~0.8."""
    from sklearn.metrics import roc_auc_score
    from xgboost import XGBClassifier

    chunk = next(DemoCity(entities=8000, seed=7, end_date=END).chunks())
    later = WINDOW_DAYS - 180
    x_train, y_train = features_and_labels(chunk, later - 180)
    x_test, y_test = features_and_labels(chunk, later)
    assert 0.04 < y_test.mean() < 0.2
    model = XGBClassifier(n_estimators=150, max_depth=3, learning_rate=0.05, n_jobs=1)
    model.fit(x_train, y_train)
    auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
    static = XGBClassifier(n_estimators=150, max_depth=3, learning_rate=0.05, n_jobs=1)
    static.fit(x_train[:, -5:], y_train)
    static_auc = roc_auc_score(y_test, static.predict_proba(x_test[:, -5:])[:, 1])
    assert 0.74 < auc < 0.92, auc
    assert auc > static_auc + 0.08  # the history carries the signal, not the registration data alone


def test_actions_name_catalogue_items_that_fit_the_entity_s_trade(city):
    from domain.demo.profiles import ITEM_KEYWORDS

    items = {i["code"]: i["name"] for i in load_supervision_items()}
    sections = {i["code"]: i["parent_code"] for i in load_industries()}
    trade = {e["uscc"]: e["industry_code"] for e in city["entities"]}
    specific = fitting = 0
    for a in city["actions"]:
        concerns = {c for word, codes in ITEM_KEYWORDS if word in items[a["item_code"]] for c in codes}
        if concerns:
            specific += 1
            division = trade[a["uscc"]]
            fitting += division in concerns or sections[division] in concerns
    assert specific > len(city["actions"]) / 4
    assert fitting / specific > 0.85
