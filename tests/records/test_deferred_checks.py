"""The deferred foreign-key checks fired while the client works
(:func:`yibao.core.bulk.deferred_checks_meanwhile`): a violation written before is raised at
the block's end, the constraints are deferred again afterwards, and a block that fails
leaves the connection ready for its rollback."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from yibao.core.bulk import deferred_checks_meanwhile, insert_rows, reserve_ids
from yibao.registry.models import Household

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has no checks to fire early"
)


def _household_of_nobody(village_id: int) -> None:
    """A household whose head (a person id never used) does not exist: a deferred violation."""
    (ids,) = reserve_ids((Household, 1))
    insert_rows(
        Household,
        ("id", "village_id", "number", "address", "head_id", "created_at"),
        [(ids[0], village_id, None, "", 2_000_000_000, "2022-12-05T00:00:00+08:00")],
    )


@pytest.mark.django_db
def test_every_deferrable_constraint_is_a_foreign_key_initially_deferred():
    # What lets the helper put them back with SET CONSTRAINTS ALL DEFERRED.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contype, condeferred, count(*) FROM pg_constraint c "
            "JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = current_schema() AND c.condeferrable GROUP BY 1, 2"
        )
        kinds = {(kind, deferred) for kind, deferred, _ in cursor.fetchall()}
    assert kinds == {("f", True)}


@pytest.mark.django_db
def test_a_violation_written_before_the_block_is_raised_at_its_end(town):
    worked = []
    with pytest.raises(IntegrityError), transaction.atomic():
        _household_of_nobody(town.sanhe.pk)
        with deferred_checks_meanwhile():
            worked.append(True)  # the client's own work, while the server checks
    assert worked == [True]


@pytest.mark.django_db
def test_after_the_block_the_constraints_are_deferred_again(town):
    with transaction.atomic():
        with deferred_checks_meanwhile():
            pass
        _household_of_nobody(town.sanhe.pk)  # not refused at its statement's end
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_a_block_that_fails_leaves_the_connection_ready_for_the_rollback(town):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        _household_of_nobody(town.sanhe.pk)
        with deferred_checks_meanwhile():
            raise ZeroDivisionError
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM registry_household WHERE head_id = 2000000000")
        assert cursor.fetchone() == (0,)
