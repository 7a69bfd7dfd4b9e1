"""Drift (漂移): population stability index between the training data and a scoring run."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["DEFAULT_PSI_THRESHOLD", "distribution", "psi"]

# PSI above 0.2 is the usual "shifted" mark; the model page flags it (configurable per call).
DEFAULT_PSI_THRESHOLD = 0.2
_EPS = 1e-4


def _bin(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Proportions per bin: len(edges)+1 value bins, then one bin for missing values."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    counts = np.bincount(np.searchsorted(edges, values[~missing], side="right"), minlength=len(edges) + 1)
    counts = np.append(counts, missing.sum()).astype(np.float64)
    total = counts.sum()
    return counts / total if total else counts


def distribution(values: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Quantile bin edges of `values` and the share in each bin (the reference for later PSI)."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[~np.isnan(values)]
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])) if len(finite) else np.array([])
    return {"edges": [float(e) for e in edges], "proportions": [float(p) for p in _bin(values, edges)]}


def psi(reference: dict[str, Any], values: np.ndarray) -> float:
    """Population stability index of `values` against a `distribution(...)` reference."""
    edges = np.asarray(reference["edges"], dtype=np.float64)
    expected = np.asarray(reference["proportions"], dtype=np.float64)
    actual = _bin(values, edges)
    expected = np.clip(expected, _EPS, None)
    actual = np.clip(actual, _EPS, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))
