"""Fixtures the SMPP door tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.door_support import Esme


@pytest.fixture
def esmes() -> Iterator[list[Esme]]:
    """The clients a test binds (see test_smpp_server.bound), closed after it."""
    made: list[Esme] = []
    yield made
    for esme in made:
        esme.close()
