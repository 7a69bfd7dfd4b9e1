"""The domain speaks domain words: field names in domain errors are snake_case (possibly dotted or indexed,
"grade_bands[0].min"); GraphQL camelises them once (`api.errors.camel_field`), pages map them to inputs
(`web.forms.field_errors`). This scan keeps camelCase out of `FieldError(...)` and `field=...` in domain/ and ml/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("domain", "ml")
CAMEL = re.compile(r"[a-z0-9][A-Z]")  # "createdFrom", "gradeBands[0]"; never "created_from", "ID", "X"


def _literal_text(node: ast.expr) -> str | None:
    """The literal characters of a str constant or an f-string (its placeholders left out); None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "\x00".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return None


def field_names(source: str) -> list[tuple[int, str]]:
    """(line, literal) of every field name written in `FieldError(<name>, …)` or `…(field=<name>)`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        candidates = [kw.value for kw in node.keywords if kw.arg == "field"]
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name == "FieldError" and node.args:
            candidates.append(node.args[0])
        for value in candidates:
            text = _literal_text(value)
            if text is not None:
                found.append((value.lineno, text))
    return found


def camel_case_fields(source: str) -> list[tuple[int, str]]:
    return [(line, text) for line, text in field_names(source) if CAMEL.search(text)]


def test_the_scan_sees_camel_case_in_every_form_it_is_written():
    sample = '\n'.join([
        'FieldError("createdFrom", "date_order", "开始日期晚于结束日期")',
        'errors.FieldError(f"gradeBands[{n}].min", "out_of_range", "…")',
        'raise NotFound("…", field="rowVersion", code="stale")',
        'raise InvalidInput(f"…", field=f"indicators[{n}].bandBound")',
        'FieldError("created_from", "date_order", "…")',
        'FieldError(f"grade_bands[{n}].min", "out_of_range", "…")',
        'raise NotFound("…", field="row_version")',
        'FieldError(name, "out_of_range", "…")',
    ])
    assert [line for line, _ in camel_case_fields(sample)] == [1, 2, 3, 4]
    assert len(field_names(sample)) == 7  # the variable `name` is not a literal


@pytest.mark.parametrize("layer", LAYERS)
def test_domain_error_field_names_are_snake_case(layer):
    sources = sorted((ROOT / layer).rglob("*.py"))
    assert sources, f"no sources under {layer}/"
    offenders = {
        f"{path.relative_to(ROOT)}:{line}": text.replace("\x00", "{…}")
        for path in sources
        for line, text in camel_case_fields(path.read_text(encoding="utf-8"))
    }
    assert offenders == {}, ("domain error field names must be snake_case (GraphQL camelises them in "
                             "api/errors.py, pages map them with web.forms.field_errors)")


def test_the_scan_reads_the_domain_field_names():
    """Guard against a scan that silently matches nothing: the domain names many fields."""
    total = sum(len(field_names(p.read_text(encoding="utf-8"))) for p in (ROOT / "domain").rglob("*.py"))
    assert total > 50
