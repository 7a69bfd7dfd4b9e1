"""Evidence files (证明材料): type checked by content (puremagic) as well as by name, size-limited, streamed to
disk under a random name in REGWATCH_VAR_DIR/evidence (outside the web root), readable only by those who may see
the warning."""

from __future__ import annotations

import hashlib
import os
import secrets
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath

import puremagic
from sqlmodel import Session, col, select

from domain.audit.service import record_audit
from domain.disposal.models import EvidenceFile
from domain.disposal.service import assisting_departments, visible_warning
from domain.errors import Forbidden, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.policy import can
from domain.warnings.models import Warning

__all__ = [
    "ALLOWED_TYPES",
    "MAX_EVIDENCE_BYTES",
    "MAX_FILES_PER_FEEDBACK",
    "StoredFile",
    "check_can_upload",
    "discard_stored",
    "evidence_dir",
    "evidence_for_download",
    "list_evidence",
    "register_evidence",
    "store_upload",
]

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024  # per file
MAX_FILES_PER_FEEDBACK = 10
_SNIFF_BYTES = 8192
_CHUNK = 1 << 16

# extension -> (MIME type stored and served, the content families it may hold)
ALLOWED_TYPES: dict[str, str] = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_OOXML = {".docx", ".xlsx", ".pptx"}
_OLE = {".doc", ".xls", ".ppt"}
_JPEG = {".jpg", ".jpeg", ".jpe", ".jfif"}
_TIFF = {".tif", ".tiff"}
ALLOWED_LABEL = "PDF、图片（PNG/JPG/GIF/WEBP/BMP/TIFF）、Office 文档（Word/Excel/PowerPoint）"


@dataclass(frozen=True)
class StoredFile:
    original_name: str
    stored_name: str
    content_type: str
    size_bytes: int
    sha256: str


def evidence_dir(var_dir: Path) -> Path:
    path = Path(var_dir) / "evidence"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _clean_name(name: str) -> str:
    base = PurePath((name or "").replace("\\", "/")).name.strip()
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?')
    return base[-200:] if base else ""


def _sniffed_extensions(head: bytes) -> set[str]:
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        return set()
    found = {m.extension.lower() for m in matches if m.extension}
    if found & _JPEG:
        found |= _JPEG
    if found & _TIFF:
        found |= _TIFF
    if found & _OOXML:
        found |= _OOXML  # one container; which of the three is told by the name
    if found & {".doc", ".xls", ".ppt", ".msi", ".msg"}:
        found |= _OLE  # OLE2 compound file, likewise
    return found


def _check_content(path: Path, ext: str, head: bytes, shown_name: str) -> None:
    sniffed = _sniffed_extensions(head)
    if ext not in sniffed:
        what = "、".join(sorted(sniffed)[:3]) if sniffed else "无法识别的内容"
        raise InvalidInput(f"文件“{shown_name}”的内容与扩展名 {ext} 不符（实际内容：{what}），"
                           f"只接受{ALLOWED_LABEL}", field="evidence", code="type_mismatch")
    if ext in _OOXML:  # a zip renamed .docx is not an Office document
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            names = set()
        if "[Content_Types].xml" not in names:
            raise InvalidInput(f"文件“{shown_name}”不是有效的 Office 文档（缺少 [Content_Types].xml）",
                               field="evidence", code="type_mismatch")


def store_upload(var_dir: Path, filename: str, chunks: Iterable[bytes], *,
                 max_bytes: int = MAX_EVIDENCE_BYTES) -> StoredFile:
    """Stream an upload to disk under a random name, checking size as it goes and type by content at the end.
    Nothing is left on disk when it is refused. Runs in a worker thread (file I/O, hashing)."""
    name = _clean_name(filename)
    if not name:
        raise InvalidInput("请选择要上传的文件", field="evidence", code="required")
    ext = PurePath(name).suffix.lower()
    if ext not in ALLOWED_TYPES:
        raise InvalidInput(f"文件“{name}”的类型 {ext or '（无扩展名）'} 不允许上传，只接受{ALLOWED_LABEL}",
                           field="evidence", code="bad_type")
    folder = evidence_dir(var_dir)
    stored_name = secrets.token_hex(16)
    path = folder / stored_name
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > max_bytes:
                    raise InvalidInput(f"文件“{name}”超过 {max_bytes // (1024 * 1024)} MB 的上限",
                                       field="evidence", code="too_large")
                if len(head) < _SNIFF_BYTES:
                    head += chunk[:_SNIFF_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InvalidInput(f"文件“{name}”是空文件", field="evidence", code="empty")
        _check_content(path, ext, head, name)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StoredFile(name, stored_name, ALLOWED_TYPES[ext], size, digest.hexdigest())


def discard_stored(var_dir: Path, stored: StoredFile) -> None:
    (evidence_dir(var_dir) / stored.stored_name).unlink(missing_ok=True)


def check_can_upload(session: Session, actor: Actor, warning_id: int) -> Warning:
    """Handlers of the responsible or an assisting department (or admins) may add evidence to an open warning."""
    w = visible_warning(session, actor, warning_id)
    assert w.id is not None
    if not can(actor, "warnings.handle"):
        raise Forbidden("只有处置部门的人员可以上传证明材料", code="forbidden")
    if not can(actor, "warnings.any_department") and actor.department_id != w.department_id \
            and actor.department_id not in assisting_departments(session, w.id):
        raise Forbidden("只有责任部门或协办部门的处置人员可以上传证明材料", code="forbidden")
    if w.status not in ("issued", "in_progress"):
        raise InvalidInput(f"预警 {w.code} 当前不在处置中，不能上传证明材料", field="evidence", code="bad_state")
    return w


def register_evidence(session: Session, actor: Actor, warning_id: int, stored: StoredFile) -> EvidenceFile:
    """Record a stored file against a warning (not yet part of a feedback)."""
    w = check_can_upload(session, actor, warning_id)
    assert w.id is not None
    pending = session.exec(select(col(EvidenceFile.id)).where(col(EvidenceFile.warning_id) == w.id,
                                                         col(EvidenceFile.feedback_id).is_(None),
                                                         col(EvidenceFile.uploaded_by_id) == actor.user_id)).all()
    if len(pending) >= MAX_FILES_PER_FEEDBACK:
        raise InvalidInput(f"每次反馈最多附 {MAX_FILES_PER_FEEDBACK} 个证明材料", field="evidence", code="too_many")
    row = EvidenceFile(warning_id=w.id, department_id=actor.department_id or w.department_id,
                       original_name=stored.original_name, stored_name=stored.stored_name,
                       content_type=stored.content_type, size_bytes=stored.size_bytes, sha256=stored.sha256,
                       uploaded_by_id=actor.user_id, uploaded_by_name=actor.username)
    session.add(row)
    session.flush()
    record_audit(session, actor, "evidence.upload", "evidence_file", row.id,
                 {"warning_id": w.id, "name": stored.original_name, "size": stored.size_bytes,
                  "sha256": stored.sha256, "content_type": stored.content_type})
    return row


def list_evidence(session: Session, actor: Actor, warning_id: int) -> list[EvidenceFile]:
    w = visible_warning(session, actor, warning_id)
    return list(session.exec(select(EvidenceFile).where(col(EvidenceFile.warning_id) == w.id)
                             .order_by(col(EvidenceFile.id))).all())


def evidence_for_download(session: Session, actor: Actor, evidence_id: int, var_dir: Path
                          ) -> tuple[EvidenceFile, Path]:
    """The file and its path, for those who may see its warning; anyone else: not found (ids reveal nothing)."""
    row = session.get(EvidenceFile, evidence_id)
    if row is None:
        raise NotFound(f"证明材料 {evidence_id} 不存在", field="id")
    try:
        visible_warning(session, actor, row.warning_id)
    except NotFound:
        raise NotFound(f"证明材料 {evidence_id} 不存在", field="id") from None
    path = evidence_dir(var_dir) / row.stored_name
    if not path.is_file():
        raise NotFound(f"证明材料“{row.original_name}”的文件已丢失，请联系管理员", field="id")
    record_audit(session, actor, "evidence.download", "evidence_file", row.id, {"warning_id": row.warning_id})
    return row, path
