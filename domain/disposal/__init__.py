"""Disposal of warnings (风险处置反馈): receipt, returns, reassignment, feedback, extensions, urging, closure."""
