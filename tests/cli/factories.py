"""Running `regwatch` in the test process (Typer's CliRunner), as the console operator would."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

__all__ = ["regwatch"]


def regwatch(*args: str, **kwargs: Any) -> Any:
    from cli import app

    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"}, **kwargs)
