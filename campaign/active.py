"""Which catalogue is in force while a piece of code runs.

Extraction reads direction names deep inside helpers that have no policy at hand, so
the catalogue travels in a context variable, set for the length of one piece of work and
never for the whole process: ``understand()`` runs under ``using(policy.catalogue)``, and
so does each command, each request of the workspace and each job of the service
(``App.round()``). Two rounds can be served by one process side by side. Outside any
scope the 2025 Shandong round applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from campaign.catalogue import SHANDONG_2025, Catalogue

_scoped: ContextVar[Catalogue | None] = ContextVar("jiebang_catalogue", default=None)


def current() -> Catalogue:
    return _scoped.get() or SHANDONG_2025


@contextmanager
def using(catalogue: Catalogue) -> Iterator[Catalogue]:
    token = _scoped.set(catalogue)
    try:
        yield catalogue
    finally:
        _scoped.reset(token)
