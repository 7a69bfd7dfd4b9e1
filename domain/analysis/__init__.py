"""监管行为分析 (supervision-behaviour analysis) and the period vocabulary shared by every report."""

from domain.analysis.periods import Period, last_closed_half_year, parse_period

__all__ = ["Period", "last_closed_half_year", "parse_period"]
