"""分析报告: generated period reports and their archive."""
