"""A submission's documents as staff open them: the bytes from the stored mail, and a
preview a browser shows inline (PDF as is, images as they are, Word/WPS converted to PDF
once by the LibreOffice sandbox of ``intake.documents.office`` and kept in the blob store).

Names are display names, matched against the attachments of the stored mail; they are
never used as paths.

A conversion takes seconds (minutes for a hostile file) and LibreOffice converts one file
at a time, so nothing here holds a database session while it converts: ``cached_pdf``
reads the cache in a session of its own, ``convert_pdf`` converts (no session), and
``remember_pdf`` writes the result in another. The web workspace queues conversions
(``tracker.web.previews``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from intake.documents.office import Job
from intake.documents.office import convert as office_convert
from intake.mime import parse_message
from tracker.store.blobs import BlobMissing, BlobStore
from tracker.store.tables import DocumentPreview, StoredMessage, SubmissionVersion

PREVIEW_SECONDS = 120.0
PDF = "application/pdf"
IMAGES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
          "bmp": "image/bmp", "tif": "image/tiff", "tiff": "image/tiff", "webp": "image/webp"}
CONVERTED = ("doc", "docx", "wps", "rtf", "odt")


class PreviewUnavailable(Exception):
    """The document has no preview (archive member, unknown format, conversion failed)."""


@dataclass(frozen=True)
class DocumentRef:
    version: int
    name: str

    @property
    def extension(self) -> str:
        return self.name.rsplit(".", 1)[-1].lower() if "." in self.name else ""

    @property
    def kind(self) -> str:
        """``pdf`` · ``image`` · ``word`` (converted for preview) · ``other``."""
        ext = self.extension
        return "pdf" if ext == "pdf" else "image" if ext in IMAGES else "word" if ext in CONVERTED else "other"


def documents(session: Session, submission_id: int) -> list[tuple[SubmissionVersion, list[DocumentRef]]]:
    versions = session.exec(select(SubmissionVersion).where(SubmissionVersion.submission_id == submission_id)
                            .order_by(col(SubmissionVersion.number))).all()
    return [(v, [DocumentRef(v.number, n) for n in v.documents]) for v in versions]


def raw_message(session: Session, blobs: BlobStore, message_pk: int) -> bytes | None:
    msg = session.get(StoredMessage, message_pk)
    if msg is None or not msg.raw_sha256:
        return None
    try:
        return blobs.get(msg.raw_sha256)
    except BlobMissing:
        return None


def document_bytes(session: Session, blobs: BlobStore, version: SubmissionVersion, name: str) -> bytes | None:
    """The file *name* of *version* as attached (None: inside an archive, or the mail is gone)."""
    if name not in version.documents:
        return None
    msg = session.get(StoredMessage, version.message_pk)
    return attachment(blobs, msg.raw_sha256 if msg is not None else None, name)


def attachment(blobs: BlobStore, raw_sha256: str | None, name: str) -> bytes | None:
    """The attachment *name* of the stored mail *raw_sha256* (no database session: parsing
    a large mail takes a while)."""
    if not raw_sha256:
        return None
    try:
        raw = blobs.get(raw_sha256)
    except BlobMissing:
        return None
    return next((a.data for a in parse_message(raw).attachments if a.name == name), None)


def as_shown(ref: DocumentRef, data: bytes) -> tuple[str, bytes] | None:
    """(content type, bytes) of a file a browser shows as it is; None for a Word/WPS file
    (converted: ``cached_pdf`` / ``convert_pdf``)."""
    if ref.kind == "pdf":
        return PDF, data
    if ref.kind == "image":
        return IMAGES[ref.extension], data
    if ref.kind == "word":
        return None
    raise PreviewUnavailable("此类文件无预览，请下载查看")


def source_key(data: bytes) -> str:
    """The sha256 a conversion is cached under."""
    return hashlib.sha256(data).hexdigest()


def cached_pdf(engine: Engine, blobs: BlobStore, data: bytes) -> bytes | None:
    """The PDF made of *data* before (None: not yet); PreviewUnavailable when it could not be."""
    with Session(engine) as session:
        cached = session.get(DocumentPreview, source_key(data))
        if cached is None:
            return None
        if cached.pdf_sha256 is None:
            raise PreviewUnavailable(cached.error or "转换失败")
        try:
            return blobs.get(cached.pdf_sha256)
        except BlobMissing:
            session.delete(cached)
            session.commit()
            return None


def convert_pdf(ref: DocumentRef, data: bytes) -> bytes:
    """Convert a Word/WPS file to PDF in the LibreOffice sandbox (no database session)."""
    [result] = office_convert([Job(data, ref.extension, "pdf")], PREVIEW_SECONDS)
    if not isinstance(result, bytes):
        # not remembered: a timeout or a missing sandbox today may be fixed tomorrow
        raise PreviewUnavailable(str(result))
    return result


def remember_pdf(engine: Engine, blobs: BlobStore, data: bytes, pdf: bytes) -> None:
    with Session(engine) as session:
        session.merge(DocumentPreview(source_sha256=source_key(data), pdf_sha256=blobs.put(pdf)))
        session.commit()
