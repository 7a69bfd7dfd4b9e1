"""Reading import files as a stream of records: .csv (UTF-8, UTF-8 with BOM, GBK/GB18030), .xlsx, .jsonl.

Headers may be the English snake_case field names or the Chinese labels (see `fields.RECORD_FIELDS`). Files are
read row by row, so memory stays flat whatever their size; `total` is an estimate for progress bars.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.errors import InvalidInput
from domain.supervision.fields import RECORD_FIELDS, header_map, normalise_header
from domain.supervision.validation import BadRecord, FileRecord

__all__ = ["FILE_FORMATS", "RecordFile", "detect_encoding", "open_records"]

FILE_FORMATS = (".csv", ".xlsx", ".jsonl")
_BLOCK = 1 << 20


@dataclass
class RecordFile:
    records: Iterator[Any]
    total: int | None  # data rows, estimated
    encoding: str | None = None


def detect_encoding(path: Path) -> tuple[str, int]:
    """(encoding, line count) in one pass: UTF-8 with BOM, UTF-8 if the whole file decodes, else GB18030 if the
    whole file decodes; anything else (UTF-16, binary, a mangled file) is refused with where it broke."""
    lines = 0
    offset = 0
    decoders: dict[str, codecs.IncrementalDecoder] = {
        name: codecs.getincrementaldecoder(name)() for name in ("utf-8", "gb18030")}
    failed_at: dict[str, int] = {}
    with path.open("rb") as fh:
        head = fh.read(3)
        fh.seek(0)
        last = b""
        while block := fh.read(_BLOCK):
            lines += block.count(b"\n")
            last = block
            for name, decoder in list(decoders.items()):
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    failed_at[name] = offset + exc.start
                    del decoders[name]
            if not decoders:
                break
            offset += len(block)
        for name, decoder in list(decoders.items()):
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                failed_at[name] = offset
                del decoders[name]
    if last and not last.endswith(b"\n"):
        lines += 1
    if "utf-8" in decoders:
        return ("utf-8-sig" if head == codecs.BOM_UTF8 else "utf-8"), lines
    if "gb18030" in decoders:
        return "gb18030", lines
    position = max(failed_at.values()) + 1
    raise InvalidInput(f"无法识别文件编码（第 {position} 个字节处既不是 UTF-8 也不是 GBK/GB18030）："
                       "请将 CSV 另存为 UTF-8 或 GBK 编码后重新上传", field="file", code="unknown_encoding")


def _columns(kind: str, headers: list[Any]) -> list[str | None]:
    """Field name per column; a file with unknown or missing columns is refused before anything is read."""
    mapping = header_map(kind)
    fields: list[str | None] = []
    unknown = []
    for position, header in enumerate(headers, start=1):
        text = "" if header is None else str(header)
        if not text.strip():
            fields.append(None)  # an empty trailing column, as spreadsheets often leave
            continue
        name = mapping.get(normalise_header(text))
        if name is None:
            unknown.append(f"第{position}列“{text.strip()}”")
        fields.append(name)
    accepted = "、".join(f"{spec.label}（{spec.name}）" for spec in RECORD_FIELDS[kind])
    if unknown:
        raise InvalidInput(f"无法识别的列：{'，'.join(unknown)}。可用的列名：{accepted}", field="file",
                           code="unknown_column")
    missing = [spec.label for spec in RECORD_FIELDS[kind] if spec.required and spec.name not in fields]
    if missing:
        raise InvalidInput(f"缺少必填列：{'、'.join(missing)}。可用的列名：{accepted}", field="file",
                           code="missing_column")
    seen = [f for f in fields if f]
    doubled = sorted({f for f in seen if seen.count(f) > 1})
    if doubled:
        raise InvalidInput(f"同一字段出现了多列：{'、'.join(doubled)}", field="file", code="duplicate_column")
    return fields


def _rows_to_records(fields: list[str | None], rows: Iterator[tuple | list]) -> Iterator[FileRecord]:
    """Records of the data rows, each with its row in the file (header = row 1). Empty cells are left out of the
    record: an empty cell leaves the stored value alone, like a column the file does not have."""
    pairs = [(i, name) for i, name in enumerate(fields) if name]
    for number, row in enumerate(rows, start=2):
        if not any(cell not in (None, "") for cell in row):
            continue  # blank lines are not records
        yield FileRecord(number, {name: row[i] for i, name in pairs
                                  if i < len(row) and row[i] is not None and row[i] != ""})


@contextmanager
def open_records(path: Path, kind: str) -> Iterator[RecordFile]:
    """Open `path` for `kind` by its extension; yields a RecordFile whose records are read lazily."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        encoding, lines = detect_encoding(path)
        with path.open(encoding=encoding, newline="") as fh:
            reader = csv.reader(fh)
            headers = next(reader, None)
            if headers is None:
                raise InvalidInput("文件为空", field="file", code="empty_file")
            yield RecordFile(_rows_to_records(_columns(kind, headers), reader), max(0, lines - 1), encoding)
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise InvalidInput(f"无法读取 Excel 文件：{exc}", field="file", code="unreadable_file") from exc
        try:
            sheet = workbook.active
            rows = sheet.iter_rows(values_only=True)
            headers = next(rows, None)
            if headers is None:
                raise InvalidInput("文件为空", field="file", code="empty_file")
            total = (sheet.max_row - 1) if sheet.max_row else None
            yield RecordFile(_rows_to_records(_columns(kind, list(headers)), rows), total)
        finally:
            workbook.close()
    elif suffix == ".jsonl":
        encoding, lines = detect_encoding(path)
        with path.open(encoding=encoding) as fh:
            yield RecordFile(_json_lines(kind, fh), lines, encoding)
    else:
        raise InvalidInput(f"不支持的文件格式“{suffix or path.name}”，请使用 {' / '.join(FILE_FORMATS)}",
                           field="file", code="unsupported_format")


def _json_lines(kind: str, lines: Iterator[str]) -> Iterator[Any]:
    mapping = header_map(kind)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield BadRecord("invalid_json", f"第{number}行不是有效的 JSON：{exc.msg}", number)
            continue
        if not isinstance(value, dict):
            yield BadRecord("not_an_object", f"第{number}行应为 JSON 对象", number)
            continue
        record: dict[str, Any] = {}
        unknown = []
        for key, item in value.items():
            name = mapping.get(normalise_header(str(key)))
            if name is None:
                unknown.append(str(key))
            else:
                record[name] = item
        if unknown:
            yield BadRecord("unknown_field", f"第{number}行有无法识别的字段：{'、'.join(unknown)}", number)
            continue
        yield FileRecord(number, record)
