"""The migration that encrypts ID numbers already in the database (registry 0005)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.records.migrating import migrate, migrate_to_latest
from yibao.intake.models import PersonListEntry
from yibao.registry.idcrypto import ENV_KEY, ENV_KEY_FILE, FieldKeyMissing, forget_keys
from yibao.registry.models import Person

BEFORE = ("registry", "0004_no_default_ordering")
INTAKE_BEFORE = ("intake", "0004_card_activations")  # undone with registry 0005
NUMBERS = ("50022219750309002X", "500222198001010011")  # stored as typed: the old column


def _plain_persons(executor: MigrationExecutor) -> list[int]:
    apps = executor.loader.project_state([BEFORE, INTAKE_BEFORE]).apps
    district = apps.get_model("registry", "District").objects.create(name="綦江区")
    township = apps.get_model("registry", "Township").objects.create(
        district=district, name="三江街道"
    )
    village = apps.get_model("registry", "Village").objects.create(township=township, name="大山村")
    old = apps.get_model("registry", "Person")
    pks = [
        old.objects.create(
            id_number=number,
            name=f"旧{i}",
            sex="male",
            birth_date=dt.date(1975, 3, 9),
            hukou_village=village,
        ).pk
        for i, number in enumerate(NUMBERS)
    ]
    deaths = apps.get_model("intake", "PersonList").objects.create(
        kind="death",
        township=township,
        benefit_year=2023,
        source="死亡名单.xlsx",
        uploaded_by=apps.get_model("auth", "User").objects.create(username="旧名单"),
    )
    apps.get_model("intake", "PersonListEntry").objects.create(
        person_list=deaths, row=1, id_number=NUMBERS[1], name="旧1", outcome="applied"
    )
    return pks


@pytest.mark.django_db(transaction=True)
def test_numbers_already_stored_in_plain_are_encrypted_and_the_plain_column_is_gone():
    try:
        pks = _plain_persons(migrate([BEFORE]))
        migrate_to_latest()
        assert [Person.objects.get(pk=pk).id_number for pk in pks] == list(NUMBERS)
        assert PersonListEntry.objects.get().id_number == NUMBERS[1]
        with connection.cursor() as cursor:
            columns = [c.name for c in connection.introspection.get_table_description(
                cursor, "registry_person"
            )]  # fmt: skip
            cursor.execute("SELECT * FROM registry_person")
            rows = cursor.fetchall()
            cursor.execute("SELECT * FROM intake_personlistentry")
            rows += cursor.fetchall()
            stored = " ".join(
                bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v)
                for row in rows
                for v in row
            )
        assert "id_number" not in columns
        assert NUMBERS[0] not in stored and NUMBERS[1] not in stored
    finally:
        migrate_to_latest()


@pytest.mark.django_db(transaction=True)
def test_without_a_key_the_migration_stops_and_changes_nothing(monkeypatch, tmp_path):
    try:
        pks = _plain_persons(migrate([BEFORE]))
        monkeypatch.delenv(ENV_KEY, raising=False)
        monkeypatch.setenv(ENV_KEY_FILE, str(tmp_path / "no-such-key"))
        forget_keys()
        with pytest.raises(FieldKeyMissing) as error:
            migrate_to_latest()
        assert "yibao keys new" in str(error.value)
        with connection.cursor() as cursor:
            cursor.execute("SELECT id_number FROM registry_person ORDER BY id")
            assert [r[0] for r in cursor.fetchall()] == list(NUMBERS)
        monkeypatch.undo()
        forget_keys()
        migrate_to_latest()
        assert Person.objects.get(pk=pks[0]).id_number == NUMBERS[0]
    finally:
        monkeypatch.undo()
        forget_keys()
        migrate_to_latest()
