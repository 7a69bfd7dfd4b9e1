"""Consistency tests for the static reference data and the demo vocabulary."""

from __future__ import annotations

from collections import Counter

from domain.demo.vocabulary import ITEM_KINDS, load_departments, load_name_parts, load_supervision_items
from domain.reference import get_region, load_industries, load_regions, province_code_of

SUZHOU_COUNTIES = {
    "320505": "虎丘区",
    "320506": "吴中区",
    "320507": "相城区",
    "320508": "姑苏区",
    "320509": "吴江区",
    "320571": "苏州工业园区",
    "320581": "常熟市",
    "320582": "张家港市",
    "320583": "昆山市",
    "320585": "太仓市",
}


def _no_duplicates(codes: list[str]) -> None:
    dupes = [code for code, n in Counter(codes).items() if n > 1]
    assert not dupes, dupes


def test_industry_counts() -> None:
    rows = load_industries()
    levels = Counter(row["level"] for row in rows)
    assert levels == {"section": 20, "division": 97}
    sections = [row["code"] for row in rows if row["level"] == "section"]
    assert sections == list("ABCDEFGHIJKLMNOPQRST")
    divisions = [row["code"] for row in rows if row["level"] == "division"]
    assert divisions == [f"{i:02d}" for i in range(1, 98)]
    _no_duplicates([row["code"] for row in rows])


def test_industry_parents_exist() -> None:
    rows = load_industries()
    sections = {row["code"] for row in rows if row["level"] == "section"}
    for row in rows:
        if row["level"] == "division":
            assert row["parent_code"] in sections, row
        else:
            assert row["parent_code"] is None
    by_code = {row["code"]: row for row in rows}
    assert by_code["C"]["name"] == "制造业"
    assert by_code["39"]["name"] == "计算机、通信和其他电子设备制造业"
    assert by_code["62"]["parent_code"] == "H"
    assert by_code["97"]["parent_code"] == "T"


def test_regions_unique_and_parents_exist() -> None:
    rows = load_regions()
    codes = [row["code"] for row in rows]
    _no_duplicates(codes)
    known = set(codes)
    for row in rows:
        assert len(row["code"]) == 6 and row["code"].isdigit(), row
        assert row["level"] in {"province", "prefecture", "county"}, row
        if row["level"] == "province":
            assert row["parent_code"] is None
            assert row["code"].endswith("0000")
        else:
            assert row["parent_code"] in known, row
            assert row["code"][:2] == row["parent_code"][:2]


def test_provinces_and_jiangsu() -> None:
    rows = load_regions()
    provinces = {row["code"] for row in rows if row["level"] == "province"}
    assert len(provinces) == 34
    assert {"110000", "320000", "650000", "710000", "810000", "820000"} <= provinces
    prefectures = [row for row in rows if row["level"] == "prefecture"]
    assert len(prefectures) == 13
    assert all(row["parent_code"] == "320000" for row in prefectures)
    jiangsu_counties = [row for row in rows if row["level"] == "county" and row["code"].startswith("32")]
    assert len(jiangsu_counties) == 96  # 95 county-level divisions + 苏州工业园区


def test_suzhou_complete() -> None:
    suzhou = {row["code"]: row["name"] for row in load_regions() if row["parent_code"] == "320500"}
    assert suzhou == SUZHOU_COUNTIES
    suzhou_city = get_region("320500")
    assert suzhou_city is not None and suzhou_city["name"] == "苏州市"
    assert get_region("999999") is None
    assert province_code_of("320583") == "320000"


def test_departments() -> None:
    departments = load_departments()
    codes = [row["code"] for row in departments]
    _no_duplicates(codes)
    by_code = {row["code"]: row for row in departments}
    regions = {row["code"] for row in load_regions()}
    assert 20 <= len(departments) <= 40
    for row in departments:
        assert row["code"].isascii()
        assert row["region_code"] in regions, row
        if row["level"] == "city":
            assert row["region_code"] == "320500"
            assert row["parent_code"] is None
        else:
            assert row["level"] == "district", row
            parent = by_code[row["parent_code"]]
            assert parent["level"] == "city"
            region = get_region(row["region_code"])
            assert region is not None and region["parent_code"] == "320500"
    assert by_code["SZ-SCJG"]["name"] == "苏州市市场监督管理局"
    assert by_code["GS-SCJG"]["parent_code"] == "SZ-SCJG"


def test_supervision_items() -> None:
    items = load_supervision_items()
    departments = {row["code"]: row for row in load_departments()}
    assert len(items) >= 140
    _no_duplicates([row["code"] for row in items])
    _no_duplicates([row["name"] for row in items])
    for row in items:
        assert row["department_code"] in departments, row
        assert departments[row["department_code"]]["level"] == "city", row
        assert row["kind"] in ITEM_KINDS, row
        assert row["legal_basis"] and row["legal_basis"].startswith("《"), row
        assert row["code"].startswith("320500-")
    kinds = Counter(row["kind"] for row in items)
    assert all(kinds[kind] > 0 for kind in ITEM_KINDS)
    assert len({row["department_code"] for row in items}) >= 12


def test_name_parts() -> None:
    parts = load_name_parts()
    assert len(parts["brand_syllables"]) >= 200
    assert len(set(parts["brand_syllables"])) == len(parts["brand_syllables"])
    assert all(len(s) == 1 for s in parts["brand_syllables"])
    sections = {row["code"] for row in load_industries() if row["level"] == "section"}
    assert set(parts["industry_words"]) == sections
    assert set(SUZHOU_COUNTIES) <= set(parts["prefixes"])
    assert {"enterprise", "joint_stock", "individual", "cooperative"} <= set(parts["suffixes"])
    assert parts["officer_surnames"] and parts["officer_given"]
    assert "食品安全" in parts["complaint_categories"]
    assert set(parts["complaint_channels"]) == {"12345", "12315", "来信", "来访", "网络"}
    # loaders hand out copies
    parts["brand_syllables"].clear()
    assert load_name_parts()["brand_syllables"]
