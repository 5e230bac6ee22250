"""The backup drill: back up a ledger with people, payments, a reversal, a remittance and
its audit trail, restore into an empty database, and compare every table row for row; a
backup from a newer schema is refused; ``yibao backup`` / ``yibao restore`` on SQLite."""

from __future__ import annotations

import os
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from yibao.cli import main
from yibao.collection.models import StaffMember
from yibao.collection.services import payment_record, payment_reverse, remittance_record
from yibao.core.backup import backup_create, backup_restore
from yibao.core.errors import ApplicationError

from . import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def _ledger() -> None:
    villages = f.area()
    sanhe = villages["三河街社区"]
    actor = f.user("sanhe", villages=(sanhe,))
    office = f.user("office", role=StaffMember.Role.TOWNSHIP, township=sanhe.township)
    payments = [
        payment_record(
            actor=actor,
            person=f.person(sanhe, name=f"备份{i}"),
            policy_id=f.POLICY,
            tier=1,
            amount=Decimal("350"),
            channel="cash",
            receipt_number=f"B-{i}",
        )
        for i in range(4)
    ]
    payment_reverse(actor=office, payment=payments[0], reason="演练")
    remittance_record(actor=actor, collector=actor.staff, amount="300", slip_number="S-9")


def _sqlite_rows(path: str) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as db:
        tables = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}


def _pg_rows(settings_dict: dict) -> dict[str, list[tuple]]:
    import psycopg

    with psycopg.connect(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or None,
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"],
        dbname=settings_dict["NAME"],
    ) as db:
        tables = [
            r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        ]
        return {t: sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}


@pytest.fixture
def empty_database(tmp_path):
    """Connection settings of a new, empty database of the same kind as the test's."""
    settings_dict = dict(connection.settings_dict)
    if connection.vendor == "sqlite":
        settings_dict["NAME"] = str(tmp_path / "restored.sqlite3")
        yield settings_dict
        return
    import psycopg

    name = f"yibao_drill_{os.getpid()}"
    admin = dict(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or None,
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"],
        dbname="postgres",
        autocommit=True,
    )
    with psycopg.connect(**admin) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        db.execute(f'CREATE DATABASE "{name}"')
    settings_dict["NAME"] = name
    yield settings_dict
    with psycopg.connect(**admin) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rows(settings_dict: dict) -> dict[str, list[tuple]]:
    if connection.vendor == "sqlite":
        return _sqlite_rows(settings_dict["NAME"])
    return _pg_rows(settings_dict)


def test_a_restored_backup_has_every_row_of_every_table(tmp_path, empty_database):
    _ledger()
    backup = backup_create(path=tmp_path / "yibao.backup")
    assert backup.size > 0 and "core.0" in backup.schema  # the latest core migration

    backup_restore(path=backup.path, database=empty_database)

    original, restored = _rows(dict(connection.settings_dict)), _rows(empty_database)
    assert set(restored) == set(original)
    for table in ("collection_payment", "collection_remittance", "core_auditlog"):
        assert original[table], table  # the drill has rows where it matters
    for table, rows in original.items():
        assert restored[table] == rows, table


def test_a_restore_refuses_a_database_that_is_not_empty(tmp_path):
    backup = backup_create(path=tmp_path / "yibao.backup")
    with pytest.raises(ApplicationError) as refused:
        backup_restore(path=backup.path)
    assert refused.value.code == "restore_target_not_empty"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the newer schema is made with sqlite3")
def test_a_backup_from_a_newer_schema_is_refused(tmp_path, empty_database):
    backup = backup_create(path=tmp_path / "yibao.backup")
    with sqlite3.connect(backup.path) as db:
        db.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('core', '0099_from_the_future', '2030-01-01')"
        )
    with pytest.raises(ApplicationError) as refused:
        backup_restore(path=backup.path, database=empty_database)
    assert refused.value.code == "backup_newer_schema"
    assert "core.0099_from_the_future" in refused.value.message
    assert not Path(empty_database["NAME"]).exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the CLI drill runs on the file")
def test_the_backup_and_restore_commands(tmp_path, capsys):
    _ledger()
    out = tmp_path / "cli.backup"
    assert main(["backup", "--out", str(out)]) == 0
    assert "已备份到" in capsys.readouterr().out
    assert main(["restore", str(out)]) == 2  # the test database is not empty
    assert "空数据库" in capsys.readouterr().err
