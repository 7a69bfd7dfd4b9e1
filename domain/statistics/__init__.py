"""风险统计展示: warning, disposal, clue and model figures for the dashboards, and the performance-goal panel."""
