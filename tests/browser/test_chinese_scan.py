"""The scanner behind every browser test: English sentences are found, codes and names pass."""

from __future__ import annotations

from tests.browser.chinese import latin_sentences


def test_the_scanner_finds_english_sentences_and_lets_codes_and_names_pass():
    assert latin_sentences(["features and labels as of 2026-01-01"]) == ["features and labels as of 2026-01-01"]
    assert latin_sentences(["boosting round 447"]) == ["boosting round 447"]
    assert latin_sentences(["logistic-regression baseline"]) == ["logistic-regression baseline"]
    assert latin_sentences(["model version 99 does not exist"]) == ["model version 99 does not exist"]
    assert latin_sentences(["已完成", "模型版本 99 不存在（model version 99）", "admin", "SZ-SCJG", "ROC-AUC 0.81",
                            "GraphiQL", "Test User", "inspections_2y > 3", "2026-07-01 08:00"]) == []
