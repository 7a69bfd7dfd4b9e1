"""Reading import files as a stream of records: .csv (UTF-8, UTF-8 with BOM, GBK/GB18030), .xlsx, .jsonl.

Headers may be the English snake_case field names or the Chinese labels (see `fields.RECORD_FIELDS`). Files are
read row by row, so memory stays flat whatever their size; `total` is an estimate for progress bars.

Limits: a CSV field longer than `csv.field_size_limit()` (131,072 characters; in practice an unclosed quote) or a
malformed CSV line stops the import with the line and the likely cause. An .xlsx is checked before it is parsed:
its members' decompressed size (`REGWATCH_MAX_XLSX_BYTES`, default 1 GiB; a member that inflates more than
`MAX_XLSX_RATIO` times is refused as a zip bomb) and its sheet's declared cell count (`REGWATCH_MAX_XLSX_CELLS`,
default 20,000,000), which is enforced again while reading in case the declaration lies.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.errors import InvalidInput
from domain.supervision.fields import RECORD_FIELDS, header_map, normalise_header
from domain.supervision.validation import BadRecord, FileRecord

__all__ = ["FILE_FORMATS", "MAX_XLSX_RATIO", "RecordFile", "check_xlsx", "detect_encoding", "open_records",
           "xlsx_limits"]

FILE_FORMATS = (".csv", ".xlsx", ".jsonl")
_BLOCK = 1 << 20
MAX_XLSX_RATIO = 100  # decompressed / compressed size above which a large member is a zip bomb
_RATIO_FLOOR = 10 * 1024 * 1024  # members smaller than this decompressed are not ratio-checked


def xlsx_limits() -> tuple[int, int]:
    """(max decompressed bytes, max cells) of an .xlsx, from REGWATCH_MAX_XLSX_BYTES / REGWATCH_MAX_XLSX_CELLS."""
    def number(name: str, default: int) -> int:
        text = os.environ.get(name, "").strip()
        return int(text) if text.isdigit() and int(text) > 0 else default
    return number("REGWATCH_MAX_XLSX_BYTES", 1 << 30), number("REGWATCH_MAX_XLSX_CELLS", 20_000_000)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def check_xlsx(path: Path) -> None:
    """Refuse an .xlsx whose decompressed size or declared cell count is over the limits, before parsing it."""
    max_bytes, max_cells = xlsx_limits()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput("无法读取 Excel 文件：不是有效的 .xlsx（zip）文件", field="file",
                           code="unreadable_file") from exc
    with archive:
        members = archive.infolist()
        total = sum(m.file_size for m in members)
        if total > max_bytes:
            raise InvalidInput(f"Excel 文件解压后为 {_mb(total)}，超过上限 {_mb(max_bytes)}："
                               "请拆分后导入，或另存为 CSV", field="file", code="xlsx_too_large")
        for m in members:
            if m.file_size > _RATIO_FLOOR and m.file_size > MAX_XLSX_RATIO * max(m.compress_size, 1):
                raise InvalidInput(f"Excel 文件中的“{m.filename}”解压后为 {_mb(m.file_size)}，是压缩后的 "
                                   f"{m.file_size // max(m.compress_size, 1)} 倍，疑似压缩炸弹，已拒绝",
                                   field="file", code="xlsx_bomb")
        for m in members:
            if m.filename.startswith("xl/worksheets/") and m.filename.endswith(".xml"):
                with archive.open(m) as fh:
                    head = fh.read(4096)
                found = _DIMENSION.search(head)
                if found and found.group(3):
                    cols = _column_number(found.group(3)) - _column_number(found.group(1)) + 1
                    cells = cols * (int(found.group(4)) - int(found.group(2)) + 1)
                    if cells > max_cells:
                        raise InvalidInput(f"Excel 工作表“{m.filename.rsplit('/', 1)[-1]}”声明了 {cells:,} 个单元格，"
                                           f"超过上限 {max_cells:,}：请拆分后导入，或另存为 CSV", field="file",
                                           code="xlsx_too_many_cells")


def _counted_cells(rows: Iterator[tuple], max_cells: int) -> Iterator[tuple]:
    cells = 0
    for row in rows:
        cells += len(row)
        if cells > max_cells:
            raise InvalidInput(f"Excel 工作表的单元格超过上限 {max_cells:,}：请拆分后导入，或另存为 CSV", field="file",
                               code="xlsx_too_many_cells")
        yield row


def _csv_rows(reader: Any) -> Iterator[list[str]]:
    """The reader's rows; a malformed file stops with where and why, in Chinese, instead of `_csv.Error`."""
    while True:
        start = reader.line_num + 1  # the line the next record starts on
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.line_num
            if "field larger than field limit" in str(exc):
                message = (f"CSV 文件第 {start} 行的记录中有一个字段超过 {csv.field_size_limit():,} 个字符"
                           f"（一直读到第 {line} 行）：多半是引号不成对——该行某个字段以英文双引号开始却没有"
                           f"结束的引号，其后的内容都被读进了这个字段。请检查第 {start} 行的引号后重新导入")
            else:
                message = f"CSV 文件第 {line} 行格式有误，无法读取：请检查该行的引号和分隔符后重新导入（{exc}）"
            raise InvalidInput(message, field="file", code="malformed_csv") from None
        yield row


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
            rows = _csv_rows(csv.reader(fh))
            headers = next(rows, None)
            if headers is None:
                raise InvalidInput("文件为空", field="file", code="empty_file")
            yield RecordFile(_rows_to_records(_columns(kind, headers), rows), max(0, lines - 1), encoding)
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        check_xlsx(path)
        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise InvalidInput(f"无法读取 Excel 文件：{exc}", field="file", code="unreadable_file") from exc
        try:
            sheet = workbook.active
            cells = _counted_cells(sheet.iter_rows(values_only=True), xlsx_limits()[1])
            header_row = next(cells, None)
            if header_row is None:
                raise InvalidInput("文件为空", field="file", code="empty_file")
            total = (sheet.max_row - 1) if sheet.max_row else None
            yield RecordFile(_rows_to_records(_columns(kind, list(header_row)), cells), total)
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
