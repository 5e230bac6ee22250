"""Gunicorn's threaded worker that leaves new connections to the less busy processes.

Every worker process waits on the same listening socket; a new connection wakes them all and
the first awake takes it. When a burst of tablets connects at once (32 in ``bench_http.py``)
one process often ends up with most of the kept-alive connections: held to one core by its
GIL, it queues their payments while another process has two or three clients and idles.
Counted under ``bench_http.py`` on SQLite with gunicorn's ``gthread``: payments per process
495 / 3,410 / 2,372 in one run, 554 / 3,396 / 2,736 in another; with this worker 2,799 /
2,461 / 2,436 and 3,522 / 3,441 / 3,195.

:class:`ThreadWorker` keeps everything else of gunicorn's ``gthread`` worker (the connection
object, the request parser and ``handle``/``handle_request``, keep-alive and its timeout, the
connection limit, max-requests, the arbiter's heartbeat, graceful shutdown). After accepting a
connection a process stops listening for a millisecond per connection it holds (at most
:data:`ACCEPT_PAUSE_MAX`), so the next connection goes to another one. Its ``cfg.threads``
threads take connections from one queue instead of a ``ThreadPoolExecutor`` (whose
``futures.wait`` over every pending request at each turn of the loop is not needed here).
``yibao serve``'s ``gthread`` runs it.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from functools import partial
from selectors import EVENT_READ
from typing import Any

from gunicorn.workers import gthread

# The arbiter kills a worker silent for ``--timeout`` (60 s): a heartbeat a second is plenty.
HEARTBEAT_SECONDS = 1.0
# After accepting a connection a worker leaves the listening socket to the others for a
# millisecond per connection it holds, at most ACCEPT_PAUSE_MAX: it still accepts at least
# 1 / ACCEPT_PAUSE_MAX connections a second when every other process is busier.
ACCEPT_PAUSE_PER_CONNECTION = 0.001
ACCEPT_PAUSE_MAX = 0.010


class ThreadWorker(gthread.ThreadWorker):
    def init_process(self) -> None:
        self._connections: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._room = threading.Event()  # set when a request ends (the connection limit)
        self._threads = [
            threading.Thread(target=self._serve, name=f"request-{n}", daemon=True)
            for n in range(self.cfg.threads)
        ]
        super().init_process()  # the poller and lock, then gunicorn's setup, then run()

    def get_thread_pool(self) -> None:  # type: ignore[override]
        return None

    def accept(self, server: Any, listener: Any) -> None:
        super().accept(server, listener)
        pause = min(self.nr_conns * ACCEPT_PAUSE_PER_CONNECTION, ACCEPT_PAUSE_MAX)
        if pause > 0 and self._listening:
            self._listen(False)
            self._resume_at = time.monotonic() + pause

    def _listen(self, on: bool) -> None:
        with self._lock:
            for sock in self.sockets:
                if on:
                    acceptor = partial(self.accept, sock.getsockname())
                    self.poller.register(sock, EVENT_READ, acceptor)
                else:
                    self.poller.unregister(sock)
        self._listening = on

    def enqueue_req(self, conn: Any) -> None:
        conn.init()
        self._connections.put(conn)

    def _serve(self) -> None:
        while (conn := self._connections.get()) is not None:
            try:
                keepalive, conn = self.handle(conn)
            except BaseException:  # handle() answers errors itself; never lose the socket
                keepalive = False
            self._finish(conn, keepalive)

    def _finish(self, conn: Any, keepalive: bool) -> None:
        """As gunicorn's ``finish_request``: back to the poller, or closed."""
        try:
            if keepalive and self.alive:
                conn.sock.setblocking(False)
                conn.set_timeout()
                with self._lock:
                    self._keep.append(conn)
                    self.poller.register(
                        conn.sock, EVENT_READ, partial(self.on_client_socket_readable, conn)
                    )
            else:
                self.nr_conns -= 1
                conn.close()
        except Exception:
            self.nr_conns -= 1
            conn.close()
        self._room.set()

    def run(self) -> None:
        for sock in self.sockets:
            sock.setblocking(False)
        self._listening, self._resume_at = False, 0.0
        self._listen(True)
        for thread in self._threads:
            thread.start()

        beat = 0.0
        while self.alive:
            now = time.monotonic()
            if now - beat >= HEARTBEAT_SECONDS:
                self.notify()
                beat = now
            if self.nr_conns < self.worker_connections:
                wait = HEARTBEAT_SECONDS
                if not self._listening:
                    if now >= self._resume_at:
                        self._listen(True)
                    else:
                        wait = self._resume_at - now
                for key, _ in self.poller.select(wait):
                    key.data(key.fileobj)
            else:  # at the limit: wait for a request to end
                self._room.clear()
                self._room.wait(HEARTBEAT_SECONDS)
            if not self.is_parent_alive():
                break
            self.murder_keepalived()
        self._stop()

    def _stop(self) -> None:
        """Stop accepting, let the threads finish the requests already taken (at most the
        graceful timeout), then close."""
        if self._listening:
            self._listen(False)
        for sock in self.sockets:
            sock.close()
        for _ in self._threads:
            self._connections.put(None)
        deadline = time.monotonic() + self.cfg.graceful_timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
        self.poller.close()

    def handle_quit(self, sig: int, frame: Any) -> None:
        self.alive = False
        self.cfg.worker_int(self)
        time.sleep(0.1)
        sys.exit(0)
