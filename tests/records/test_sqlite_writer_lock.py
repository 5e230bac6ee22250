"""SQLite writers queue on a lock that wakes them (yibao.core.backends.sqlite3)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from yibao.core.backends.sqlite3.base import writer_lock

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite only: PostgreSQL has row locks"
)


def test_one_holder_at_a_time_and_the_next_waits_no_longer_than_told(tmp_path):
    lock = writer_lock(str(tmp_path / "db.sqlite3"))
    assert lock is not None and lock.acquire(1)
    answers: list[bool] = []
    other = threading.Thread(target=lambda: answers.append(lock.acquire(0.05)))
    other.start()
    other.join()
    assert answers == [False]
    assert lock.acquire(0, wait=False) is False
    lock.release()
    assert lock.acquire(1, wait=False)
    lock.release()


def test_an_in_memory_database_has_no_lock():
    assert writer_lock(":memory:") is None
    assert writer_lock("file:memdb1?mode=memory&cache=shared") is None


@pytest.mark.django_db(transaction=True)
def test_a_transaction_holds_the_lock_until_it_commits_or_rolls_back():
    lock = writer_lock(str(connection.settings_dict["NAME"]))
    assert lock is not None

    def free() -> bool:
        got: list[bool] = []
        probe = threading.Thread(target=lambda: got.append(lock.acquire(0.01)))
        probe.start()
        probe.join()
        if got[0]:
            lock.release()
        return got[0]

    with transaction.atomic():
        assert not free()
    assert free()
    with pytest.raises(RuntimeError), transaction.atomic():
        assert not free()
        raise RuntimeError("rolled back")
    assert free()
