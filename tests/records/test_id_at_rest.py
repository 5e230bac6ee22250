"""ID numbers encrypted at rest (issue 9): what the database holds, and what still works."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog
from yibao.registry.idcrypto import (
    ENV_KEY,
    ENV_KEY_FILE,
    IdNumberUnreadable,
    forget_keys,
    id_number_fields,
)
from yibao.registry.models import Person
from yibao.registry.selectors import person_list, persons_by_id_number
from yibao.registry.services import person_register
from yibao.serving.checks import insecure_settings

from . import factories as f

NUMBER = "500222197503090024"  # the encryption does not check numbers


def _valid(body17: str) -> str:
    """The 17 digits with their GB 11643 check character, computed here from the standard's
    weights (not by the code under test)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(body17, weights, strict=True))
    return body17 + "10X98765432"[total % 11]


def _raw_row(pk: int) -> tuple[object, ...]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM registry_person WHERE id = %s", [pk])
        return cursor.fetchone()


def _as_text(value: object) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


@pytest.fixture
def wang(town):
    return person_register(
        actor=town.sanhe_collector,
        hukou_village=town.sanhe,
        id_number=_valid("50022219750309002"),
        name="王芳",
    )


def test_the_database_row_holds_neither_the_number_nor_its_last_six_digits(wang):
    number = _valid("50022219750309002")
    row = " ".join(_as_text(value) for value in _raw_row(wang.pk))
    assert "王芳" in row  # the row was read
    assert number not in row
    assert number[-6:] not in row
    assert number[:14] not in row


def test_the_person_reads_back_the_number_it_was_registered_with(wang):
    assert Person.objects.get(pk=wang.pk).id_number == _valid("50022219750309002")


def test_the_masked_number_and_the_audit_entry_show_the_mask_not_the_ciphertext(wang):
    number = _valid("50022219750309002")
    assert Person.objects.get(pk=wang.pk).masked_id_number == "500222********" + number[-4:]
    entry = AuditLog.objects.get(action="person.register", object_id=str(wang.pk))
    assert entry.after["id_number"] == "500222********" + number[-4:]
    assert "id_cipher" not in entry.after and "id_digest" not in entry.after


def test_search_by_the_whole_number_finds_the_person(town, wang):
    number = _valid("50022219750309002")
    found = person_list(actor=town.sanhe_collector, search=number.lower()[:-1] + number[-1])
    assert [p.pk for p in found] == [wang.pk]


def test_search_by_the_last_six_digits_finds_the_person(town, wang):
    found = person_list(actor=town.sanhe_collector, search=_valid("50022219750309002")[-6:])
    assert [p.pk for p in found] == [wang.pk]


def test_search_by_the_last_six_digits_of_someone_else_finds_nobody(town, wang):
    other = _valid("50022219750309004")
    assert list(person_list(actor=town.sanhe_collector, search=other[-6:])) == []


def test_a_lookup_by_number_keys_the_persons_by_their_number(wang):
    number = _valid("50022219750309002")
    assert persons_by_id_number([number, " " + number.lower()]) == {number: wang}


def test_registering_the_same_number_twice_is_refused(town, wang):
    with pytest.raises(ApplicationError) as error:
        person_register(
            actor=town.sanhe_collector,
            hukou_village=town.sanhe,
            id_number=_valid("50022219750309002"),
            name="王芳",
        )
    assert error.value.code == "person_exists"
    assert Person.objects.count() == 1


def test_the_database_refuses_a_second_row_with_the_same_number(town, wang):
    copy = Person(
        name="王芳",
        sex=Person.Sex.FEMALE,
        birth_date=dt.date(1975, 3, 9),
        hukou_village=town.dashan,
        **id_number_fields(_valid("50022219750309002")),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


def test_a_changed_ciphertext_byte_is_refused_by_its_tag(wang):
    cipher = bytearray(bytes(Person.objects.get(pk=wang.pk).id_cipher))
    cipher[-1] ^= 0x01
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registry_person SET id_cipher = %s WHERE id = %s", [bytes(cipher), wang.pk]
        )
    with pytest.raises(IdNumberUnreadable):
        Person.objects.get(pk=wang.pk).id_number  # noqa: B018


def test_a_ciphertext_moved_to_another_person_is_refused(town, wang):
    other = f.person(town.sanhe, name="李四")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registry_person SET id_cipher = %s WHERE id = %s",
            [bytes(Person.objects.get(pk=wang.pk).id_cipher), other.pk],
        )
    with pytest.raises(IdNumberUnreadable):
        Person.objects.get(pk=other.pk).id_number  # noqa: B018


def test_two_encryptions_of_one_number_differ_but_index_alike():
    first, second = id_number_fields(NUMBER), id_number_fields(NUMBER)
    assert first["id_cipher"] != second["id_cipher"]  # a random nonce each time
    assert first["id_digest"] == second["id_digest"]
    assert first["id_last6_digest"] == id_number_fields("110101199009090024")["id_last6_digest"]


def test_serving_is_refused_without_a_key(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_KEY, raising=False)
    monkeypatch.setenv(ENV_KEY_FILE, str(tmp_path / "missing-key"))
    forget_keys()
    try:
        problems = insecure_settings()
    finally:
        monkeypatch.undo()
        forget_keys()
    assert any("missing-key" in p and "不存在" in p for p in problems)


def test_serving_is_refused_with_a_key_file_others_can_read(monkeypatch, tmp_path):
    path = tmp_path / "field-key"
    path.write_text("A" * 43 + "=\n")
    path.chmod(0o644)
    monkeypatch.delenv(ENV_KEY, raising=False)
    monkeypatch.setenv(ENV_KEY_FILE, str(path))
    forget_keys()
    try:
        problems = insecure_settings()
    finally:
        monkeypatch.undo()
        forget_keys()
    assert any("权限过宽" in p for p in problems)


@pytest.fixture
def own_key_file(monkeypatch, tmp_path):
    """A copy of the tests' key in a directory of this test's own, so that a rotation
    replaces the copy, not the key the other tests use."""
    from yibao.registry.idcrypto import key_file_path

    path = tmp_path / "field-key"
    path.write_text(key_file_path().read_text())
    path.chmod(0o600)
    monkeypatch.delenv(ENV_KEY, raising=False)
    monkeypatch.setenv(ENV_KEY_FILE, str(path))
    forget_keys()
    yield path
    monkeypatch.undo()
    forget_keys()


def test_rotation_keeps_everyone_findable_and_the_old_key_no_longer_opens(town, own_key_file):
    from yibao.cli import main
    from yibao.registry.idcrypto import current_key, id_number_decrypt

    numbers = [_valid(f"5002221975030900{n}") for n in range(1, 6)]
    for i, number in enumerate(numbers):
        person_register(
            actor=town.office, hukou_village=town.sanhe, id_number=number, name=f"居民{i}"
        )
    old = current_key()

    assert main(["keys", "rotate", "--user", "office"]) == 0

    forget_keys()
    new = current_key()
    assert new.index_key != old.index_key
    assert len(list(own_key_file.parent.glob("field-key.retired-*"))) == 1
    for number in numbers:
        [by_number] = person_list(actor=town.office, search=number)
        [by_end] = person_list(actor=town.office, search=number[-6:])
        assert by_number.pk == by_end.pk and by_number.id_number == number
        with pytest.raises(IdNumberUnreadable):
            id_number_decrypt(by_number.id_cipher, by_number.id_digest, key=old)
    entry = AuditLog.objects.get(action="field_key.rotate")
    assert entry.actor_name == "office"
    assert entry.after["rows"] == {
        "registry.person": 5,
        "intake.identitylistentry": 0,
        "intake.personlistentry": 0,
    }


def test_key_check_names_the_person_whose_ciphertext_was_changed(town, wang, capsys):
    from yibao.cli import main

    other = f.person(town.sanhe, name="李四")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registry_person SET id_cipher = %s WHERE id = %s",
            [bytes(Person.objects.get(pk=wang.pk).id_cipher), other.pk],
        )
    assert main(["keys", "check"]) == 1
    assert f"（参保人{other.pk}）" in capsys.readouterr().err


def test_a_new_key_file_is_never_written_over_an_existing_one(own_key_file, capsys):
    from yibao.cli import main

    before = own_key_file.read_text()
    assert main(["keys", "new", str(own_key_file)]) == 2
    assert own_key_file.read_text() == before
    assert main(["keys", "new", str(own_key_file.with_name("other-key"))]) == 0
    assert own_key_file.with_name("other-key").stat().st_mode & 0o077 == 0


def test_the_cli_finds_a_person_by_the_whole_number_and_by_the_last_six(town, wang, capsys):
    from yibao.cli import main

    number = _valid("50022219750309002")
    for text in (number, number[-6:]):
        assert main(["persons", "find", text, "--user", "sanhe", "--json"]) == 0
        [row] = json.loads(capsys.readouterr().out)
        assert row["id"] == wang.pk and row["id_number"] == "500222********" + number[-4:]
    assert AuditLog.objects.filter(action="person.search_id_number").count() == 1


@given(st.text(alphabet="0123456789xX １ \t\n\u3000abc", max_size=20))
@settings(max_examples=500, deadline=None)
def test_normalising_a_number_removes_whitespace_and_upper_cases_it(text):
    import re

    from yibao.registry.idcrypto import normalise

    assert normalise(text) == re.sub(r"\s+", "", text).upper()


@pytest.mark.django_db
def test_the_registry_columns_found_by_equality_carry_no_pattern_index():
    """PostgreSQL's ``*_like`` indexes serve only ``startswith``, which no query of these
    columns uses; registry migration 0008 drops them (each cost a write per person)."""
    if connection.vendor != "postgresql":
        pytest.skip("varchar_pattern_ops indexes exist on PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN "
            "('registry_person', 'registry_household') AND indexdef LIKE %s",
            ["%pattern_ops%"],
        )
        assert cursor.fetchall() == []
