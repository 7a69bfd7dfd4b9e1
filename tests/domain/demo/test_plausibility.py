"""Demo city plausibility (issues 11 #15, 11 #4, 16): items fit the entity's trade, inspections say how they were
triggered, deregistered entities carry the date they left the register."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from domain.demo.generator import DemoCity, item_concerns
from domain.demo.vocabulary import load_supervision_items
from domain.reference import get_industry

END = date(2026, 6, 30)


@pytest.fixture(scope="module")
def city() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {"entities": [], "actions": []}
    for chunk in DemoCity(entities=4000, seed=7, end_date=END).chunks():
        out["entities"] += chunk.entity_records()
        out["actions"] += chunk.action_records()
    return out


def test_the_keyword_table_reads_the_most_specific_trade():
    assert item_concerns("对医疗器械生产企业的监督检查") == {"35"}  # not retail
    assert "52" in item_concerns("查封、扣押不符合法定要求的医疗器械")
    assert item_concerns("对报废机动车回收企业的监督检查") == {"42", "77"}
    assert item_concerns("对企业公示信息的抽查") == set()  # any trade


def test_every_action_is_under_an_item_that_fits_the_entity_s_trade(city):
    items = {i["code"]: i for i in load_supervision_items()}
    trade = {e["uscc"]: e["industry_code"] for e in city["entities"]}
    misfits = []
    for a in city["actions"]:
        item = items[a["item_code"]]
        assert a["kind"] == item["kind"], a
        concerns = item_concerns(item["name"])
        division = trade[a["uscc"]]
        section = get_industry(division)["parent_code"]  # type: ignore[index]
        if concerns and division not in concerns and section not in concerns:
            misfits.append((item["name"], division))
    assert len(city["actions"]) > 3000
    assert misfits == []


def test_inspections_say_how_they_were_triggered_about_half_by_random_draw(city):
    inspections = [a for a in city["actions"] if a["kind"] == "inspection"]
    others = [a for a in city["actions"] if a["kind"] != "inspection"]
    assert all(a["trigger"] is None for a in others)
    shares = Counter(a["trigger"] for a in inspections)
    total = len(inspections)
    assert set(shares) == {"random", "complaint", "clue", "routine", "campaign"}
    assert 0.40 < shares["random"] / total < 0.60, shares
    assert 0.05 < shares["complaint"] / total < 0.35, shares


def test_deregistered_entities_carry_their_status_date(city):
    statuses = Counter(e["status"] for e in city["entities"])
    assert statuses["cancelled"] and statuses["revoked"]
    for e in city["entities"]:
        if e["status"] == "active":
            assert e["status_changed_on"] is None
        else:
            assert e["founded_on"] <= e["status_changed_on"] <= END, e
