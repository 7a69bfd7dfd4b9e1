"""What the model pages draw and colour: ECharts data (read by web/static/js/charts.js) and badge tones.

The domain hands over figures (`domain.risk.metrics.ModelMetrics`); turning them into chart series, colours and
labels is the page's business and lives here.
"""

from __future__ import annotations

from typing import Any

from domain.risk.metrics import CalibrationBin, ModelMetrics

__all__ = ["LEVEL_TONES", "chart_data", "compare_charts"]

# Bootstrap tones of the warning levels on the pages (the level vocabulary itself: domain/risk/levels.py).
LEVEL_TONES = {"red": "danger", "orange": "warning", "yellow": "warning", "blue": "primary"}


def _calibration(bins: list[CalibrationBin]) -> list[list[Any]]:
    return [[b.mean_predicted, b.observed_rate, b.count] for b in bins
            if b.mean_predicted is not None and b.observed_rate is not None]


def chart_data(m: ModelMetrics) -> dict[str, Any]:
    """The version page's charts as plain JSON: ROC, PR, calibration before and after, importance."""
    return {
        "roc": [[p.x, p.y] for p in m.roc_curve],
        "baselineRoc": [],
        "pr": [[p.x, p.y] for p in m.pr_curve],
        "calibration": _calibration(m.calibration),
        "calibrationBefore": _calibration(m.calibration_before),
        "importance": [[f.feature, f.importance] for f in m.importance[:20]],
    }


def compare_charts(pairs: list[tuple[str, ModelMetrics]]) -> dict[str, Any]:
    """The comparison page's ROC and PR charts, one series per version."""
    return {"compare-roc": [{"name": n, "points": [[p.x, p.y] for p in m.roc_curve]} for n, m in pairs if m.roc_curve],
            "compare-pr": [{"name": n, "points": [[p.x, p.y] for p in m.pr_curve]} for n, m in pairs if m.pr_curve]}
