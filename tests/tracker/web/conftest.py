"""Fixtures of the web workspace tests (helpers in ``support.web``)."""

from __future__ import annotations

import pytest
from support.web import Workspace, make_workspace


@pytest.fixture
def workspace(tmp_path, db_url) -> Workspace:
    return make_workspace(tmp_path, db_url)
