"""Open attachments into :class:`intake.model.Document` objects, within :class:`Limits`.

Public API::

    open_attachments(attachments, limits=Limits(), *, include_inline=False) -> list[Document]
    sniff(data, name="", content_type="") -> Format
    Limits

Each module has one job: ``sniff`` (format by magic bytes), ``docx``, ``pdf``
(+ ``ocr``), ``sheets``, ``office`` (LibreOffice for .doc/.wps), ``archives``,
``tnef``, ``htmltext``; ``opener`` ties them together; ``limits`` and
``errors`` are shared.
"""

from intake.documents.limits import Limits
from intake.documents.opener import open_attachments
from intake.documents.sniff import sniff

__all__ = ["Limits", "open_attachments", "sniff"]
