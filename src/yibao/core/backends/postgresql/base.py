"""Django's PostgreSQL backend, with the health check asked of the socket first.

Connections are kept between requests (``CONN_MAX_AGE``) and checked before reuse
(``CONN_HEALTH_CHECKS``), so that a restarted server costs a failed check, not a failed
request. Django checks with ``SELECT 1``: a round trip to the server at the start of every
request, one in six of a payment's. A server that ends a session (a restart, an
administrator's ``pg_terminate_backend``) says so on the connection and closes it, which
leaves the socket readable; a kept connection that is idle, outside a transaction, with
nothing to read is taken as it is. Anything else (something to read, a transaction left
open, a connection psycopg no longer calls good) gets Django's ``SELECT 1``.
"""

from __future__ import annotations

import select

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and self._quiet()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _quiet(self) -> bool:
        """Whether the kept connection is idle and its socket has nothing to read."""
        pgconn = self.connection.pgconn
        if (
            pgconn.status != pq.ConnStatus.OK
            or pgconn.transaction_status != pq.TransactionStatus.IDLE
        ):
            return False
        try:
            poll = select.poll()
            poll.register(pgconn.socket, select.POLLIN)
            return not poll.poll(0)
        except (OSError, ValueError, psycopg.Error):  # no socket: closed
            return False
