"""``yibao serve``'s threaded worker: gunicorn's ``gthread``, leaving new connections to the
less busy processes.

Every process waits on the one listening socket, and the first awake takes a new
connection. Clients that connect together (a township's collectors at the start of the day,
the load benchmark's 32 at once) can so land mostly on one process, and a process is held to
one core by its GIL while the other idles: on PostgreSQL, one process then wrote groups of
1.0–2.5 payments while the other wrote groups of 8, and the run gave 284–352 payment
requests/s instead of 450–550 (``docs/speed-history.md``, eighth pass). After taking a
connection, this worker waits 1 ms per connection it holds (at most 10 ms) before it takes
the next, so a process that holds many leaves the next ones to a process that holds few.

Requests on connections already taken are answered as before; only taking new ones waits. A
process holding ten connections or more so takes at most a hundred new ones per second:
browsers and the API's clients keep their connection between requests (gunicorn closes it
after two idle seconds), so a township's desks open a few per minute.
"""

from __future__ import annotations

import time
from typing import Any

from gunicorn.workers import gthread

# The wait per connection held, and the longest wait (seconds).
WAIT_PER_CONNECTION = 0.001
MOST_WAIT = 0.010


class ThreadWorker(gthread.ThreadWorker):
    def accept(self, server: Any, listener: Any) -> None:
        before = self.nr_conns
        super().accept(server, listener)
        if self.nr_conns > before:  # a connection taken (not one lost to another process)
            time.sleep(min(self.nr_conns * WAIT_PER_CONNECTION, MOST_WAIT))
