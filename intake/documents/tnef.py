"""Unpack Outlook's TNEF ``winmail.dat`` into the files it carries."""

from __future__ import annotations

import struct

from tnefparse.tnef import TNEF, TNEFAttachment

from intake.charsets import decode_bytes

TNEF_MAGIC = b"\x78\x9f\x3e\x22"
MAX_FILES = 200


class TnefError(Exception):
    """winmail.dat is not valid TNEF (its str() says so in plain words)."""


def expand_tnef(data: bytes, max_files: int = MAX_FILES) -> list[tuple[str, bytes]]:
    """``(file name, bytes)`` of each attachment; a body-only TNEF gives ``[]``."""
    if not data.startswith(TNEF_MAGIC):
        raise TnefError("winmail.dat 不是有效的 Outlook TNEF 文件")
    try:
        tnef = TNEF(data, do_checksum=False)
        if not tnef.objects:
            raise TnefError("winmail.dat 内容为空或已损坏")
        attachments = tnef.attachments[:max_files]
        files = [(_name(a), bytes(a.data or b"")) for a in attachments]
    except (ValueError, struct.error, IndexError, KeyError, TypeError, UnicodeError) as exc:
        raise TnefError("winmail.dat 已损坏，无法解开") from exc
    named = []
    for index, (name, content) in enumerate(files, start=1):
        named.append((name or f"winmail-{index}.bin", content))
    return named


def _name(attachment: TNEFAttachment) -> str:
    try:
        value = attachment.long_filename()
    except UnicodeDecodeError:
        # tnefparse decodes the legacy title as UTF-8; Chinese Outlook wrote GBK.
        value = attachment._name
    if isinstance(value, bytes):
        value = decode_bytes(value.rstrip(b"\x00"))
    return (value or "").strip("\x00").strip()
