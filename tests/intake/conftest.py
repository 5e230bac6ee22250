"""Fixtures for intake tests: the campaign date and the import tests' township."""

from __future__ import annotations

import pytest

from tests.transfer.conftest import campaign_day, make_town

__all__ = ["campaign_day"]


@pytest.fixture
def town(db):
    return make_town()
