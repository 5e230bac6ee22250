"""The PostgreSQL backend's health check (yibao.core.backends.postgresql): a kept connection
is asked of its socket first, and a connection the server ended is replaced before use."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import connection, connections

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend")


def _check() -> None:
    connection.health_check_done = False  # as at the start of a request
    connection.close_if_health_check_failed()


@pytest.mark.django_db(transaction=True)
def test_an_idle_kept_connection_is_taken_without_asking_the_server(monkeypatch):
    connection.ensure_connection()
    kept = connection.connection
    asked: list[bool] = []
    monkeypatch.setattr(connections["default"], "is_usable", lambda: asked.append(True) or True)
    _check()
    assert asked == []  # no SELECT 1
    assert connection.connection is kept
    with connection.cursor() as cursor:  # a transaction left open is checked the long way
        cursor.execute("BEGIN")
        _check()
        cursor.execute("ROLLBACK")
    assert asked == [True]


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_is_replaced_before_the_next_query():
    connection.ensure_connection()
    kept = connection.connection
    pid = kept.info.backend_pid
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while connection._quiet() and time.monotonic() < deadline:  # the goodbye reaches the socket
        time.sleep(0.02)
    _check()
    assert connection.connection is None  # closed by the check, not by a failed request
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
