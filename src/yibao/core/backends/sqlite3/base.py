"""Django's SQLite backend, with write transactions queued on a lock that wakes its waiter.

Every transaction on SQLite begins IMMEDIATE and so holds the database's one write lock until
it commits. SQLite's own way to wait for that lock is its busy handler, which polls: it
sleeps 1, 2, 5, 10, ... up to 100 ms between tries, so with many writers (gunicorn's threads
and processes, each payment a short transaction) the lock often lies free while every waiter
sleeps. Here a writer first takes a lock of this process (threads) and an ``flock`` on a file
beside the database (processes), which the kernel hands to the next waiter the moment it is
released; BEGIN IMMEDIATE then finds the write lock free. Other programs that open the file
(the CLI in a shell, a backup) still meet the busy handler as before.

The wait is bounded by the busy timeout: a writer that has waited that long goes on to
BEGIN IMMEDIATE anyway, which waits (and fails) as plain SQLite does. A connection whose
``yibao_writer_nowait`` is set (the API token's last-use bookkeeping) does not queue.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from typing import Any

from django.db.backends.sqlite3 import base

_guard = threading.Lock()
_locks: dict[str, WriterLock] = {}


class WriterLock:
    """One database file's writer queue in this process: a thread lock, then ``flock``."""

    def __init__(self, path: str):
        self.path = path
        self.thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # a forked child opens its own
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self, timeout: float, *, wait: bool = True) -> bool:
        """Take the queue's turn; False when not within ``timeout`` (or at once, ``wait``
        False)."""
        if not self.thread_lock.acquire(wait, timeout if wait else -1):
            return False
        try:
            fd = self._file()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if not wait:
                    raise
            # A blocking flock cannot time out: poll, but at most a millisecond apart (one
            # thread per process polls; the others wait on the thread lock).
            deadline, pause = time.monotonic() + timeout, 0.0001
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise
                    time.sleep(pause)
                    pause = min(pause * 2, 0.001)
        except BaseException:
            self.thread_lock.release()
            return False

    def release(self) -> None:
        try:
            if self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self.thread_lock.release()


def writer_lock(database: str) -> WriterLock | None:
    """The writer queue of the database file ``database``; None for an in-memory one."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = os.path.abspath(database) + ".writer-lock"
    with _guard:
        lock = _locks.get(path)
        if lock is None:
            lock = _locks[path] = WriterLock(path)
        return lock


class DatabaseWrapper(base.DatabaseWrapper):
    yibao_writer_nowait = False
    _yibao_writer: WriterLock | None = None

    def _start_transaction_under_autocommit(self) -> None:
        lock = None if self.is_in_memory_db() else writer_lock(str(self.settings_dict["NAME"]))
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        if lock is not None and lock.acquire(timeout, wait=not self.yibao_writer_nowait):
            self._yibao_writer = lock
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer()
            raise

    def _release_writer(self) -> None:
        lock, self._yibao_writer = self._yibao_writer, None
        if lock is not None:
            lock.release()

    def _commit(self) -> Any:
        try:
            return super()._commit()
        finally:
            self._release_writer()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()
        finally:
            self._release_writer()

    def _close(self) -> Any:
        try:
            return super()._close()
        finally:
            self._release_writer()
