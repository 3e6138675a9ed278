"""A submission's documents as staff open them: the bytes from the stored mail, and a
preview a browser shows inline (PDF as is, images as they are, Word/WPS converted to PDF
once by the LibreOffice sandbox of ``intake.documents.office`` and kept in the blob store).

Names are display names, matched against the attachments of the stored mail; they are
never used as paths.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    raw = raw_message(session, blobs, version.message_pk)
    if raw is None:
        return None
    return next((a.data for a in parse_message(raw).attachments if a.name == name), None)


def preview(session: Session, blobs: BlobStore, ref: DocumentRef, data: bytes) -> tuple[str, bytes]:
    """(content type, bytes) a browser shows inline."""
    if ref.kind == "pdf":
        return PDF, data
    if ref.kind == "image":
        return IMAGES[ref.extension], data
    if ref.kind == "word":
        return PDF, _converted(session, blobs, ref, data)
    raise PreviewUnavailable("此类文件无预览，请下载查看")


def _converted(session: Session, blobs: BlobStore, ref: DocumentRef, data: bytes) -> bytes:
    """The PDF of a Word/WPS file, converted once and kept in the blob store."""
    source = blobs.put(data)
    cached = session.get(DocumentPreview, source)
    if cached is not None:
        if cached.pdf_sha256 is None:
            raise PreviewUnavailable(cached.error or "转换失败")
        try:
            return blobs.get(cached.pdf_sha256)
        except BlobMissing:
            session.delete(cached)
            session.flush()
    [result] = office_convert([Job(data, ref.extension, "pdf")], PREVIEW_SECONDS)
    if not isinstance(result, bytes):
        # not remembered: a timeout or a missing sandbox today may be fixed tomorrow
        raise PreviewUnavailable(str(result))
    session.merge(DocumentPreview(source_sha256=source, pdf_sha256=blobs.put(result)))
    session.commit()
    return result
