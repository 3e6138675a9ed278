"""Why a document could not be opened.

Every opener raises one of these; ``open_attachments`` turns it into
``Document(readable=False, error=str(exc))``. The message is plain Chinese,
fit to show to the applicant in a deficiency notice.

    DocumentError
    ├── Unreadable        corrupt, truncated, not what its name says
    ├── Encrypted         needs a password
    ├── LimitExceeded     a Limits bound was hit (bomb, too many pages, too slow)
    └── ConversionFailed  LibreOffice could not convert it (or timed out)
"""

from __future__ import annotations


class DocumentError(Exception):
    """Base class: str(exc) is the plain-words reason."""


class Unreadable(DocumentError):
    pass


class Encrypted(DocumentError):
    def __init__(self, message: str = "文件已加密（设置了打开密码），无法读取") -> None:
        super().__init__(message)


class LimitExceeded(DocumentError):
    pass


class ConversionFailed(DocumentError):
    pass
