"""Which catalogue is in force while a piece of code runs.

Extraction reads direction names deep inside helpers that have no policy at hand, so
the catalogue travels in a context variable: ``understand()`` runs under
``using(policy.catalogue)``, and a process that loaded config.yaml calls ``activate``
once. Without either, the 2025 Shandong round applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from campaign.catalogue import SHANDONG_2025, Catalogue

_process_default: list[Catalogue] = [SHANDONG_2025]
_scoped: ContextVar[Catalogue | None] = ContextVar("jiebang_catalogue", default=None)


def current() -> Catalogue:
    return _scoped.get() or _process_default[0]


def activate(catalogue: Catalogue) -> None:
    """Make *catalogue* this process's round (called once the config is loaded)."""
    _process_default[0] = catalogue


@contextmanager
def using(catalogue: Catalogue) -> Iterator[Catalogue]:
    token = _scoped.set(catalogue)
    try:
        yield catalogue
    finally:
        _scoped.reset(token)
