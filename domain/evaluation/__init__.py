"""监管效能评价: indicator sets, scoring, evaluation runs."""
