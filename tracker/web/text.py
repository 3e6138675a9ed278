"""Text as staff see it: names from mail (files, units, subjects) never reorder the page.

A file called ``invoice\u202efdp.exe`` shows as ``invoiceexe.pdf``: the bidirectional
controls (embeddings, overrides, isolates, marks) are removed wherever such a name is
shown — every ``{{ … }}`` of a template (the environment's finalize), the ``plain``
filter, and the file name of a download's Content-Disposition.
"""

from __future__ import annotations

BIDI_CONTROLS = (
    "\u202a\u202b\u202c\u202d\u202e"  # LRE RLE PDF LRO RLO
    "\u2066\u2067\u2068\u2069"  # LRI RLI FSI PDI
    "\u200e\u200f\u061c"  # LRM RLM ALM
)
_DROP: dict[int, None] = dict.fromkeys(map(ord, BIDI_CONTROLS))


def plain(value: str) -> str:
    """*value* without bidirectional controls."""
    return value.translate(_DROP)
