"""Read one document format each, within :class:`Limits`.

Public API::

    sniff(data, name="", content_type="") -> Format
    Limits

Each module has one job: ``sniff`` (format by magic bytes), ``docx``, ``pdf``
(+ ``ocr``), ``sheets``, ``office`` (LibreOffice for .doc/.wps), ``archives``,
``tnef``, ``htmltext``; ``limits`` and ``errors`` are shared.
``intake.attachments.open_attachments`` ties them together (and expands forwarded
mail with ``intake.mime``, which sits between the two).
"""

from intake.documents.limits import Limits
from intake.documents.sniff import sniff

__all__ = ["Limits", "sniff"]
