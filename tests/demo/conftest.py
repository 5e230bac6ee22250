"""A small demo township, built once for the module through the ledger's services."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test.utils import override_settings

from yibao.demo.build import build_demo

SEED = 11
RESIDENTS = 600


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Build the demo in one transaction and roll it back afterwards (the audit log is
    append-only, so it cannot be deleted row by row)."""
    # PBKDF2 makes each demo account cost half a second; the hasher is not under test.
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=fast),
        transaction.atomic(),
    ):
        result = build_demo(seed=SEED, residents=RESIDENTS)
        yield result
        transaction.set_rollback(True)
