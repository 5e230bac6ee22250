"""Group commit: the writes that threads of one process ask for at the same moment, written
together in one transaction.

A thread that asks to write while another thread of the process is writing waits. When that
write is done, the first waiting thread takes every request queued meanwhile, its own among
them, writes them as one group (one lock taken, one commit) and hands each waiting thread its
own outcome. Nothing waits for company: a request that finds no write under way is written
at once, as a group of one.

Payments use it (:func:`yibao.collection.services.payment_submit`): a gunicorn worker's
threads then pass the database's serial section (SQLite's write lock; on PostgreSQL the
audit chain's lock, held until commit) once per group instead of once per request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

J = TypeVar("J")
R = TypeVar("R")


class Alone:
    """The outcome that sends a request back to its own thread, to be written by itself
    (the group could not be written as one)."""

    def __repr__(self) -> str:
        return "ALONE"


ALONE = Alone()


class _Slot(Generic[J, R]):
    __slots__ = ("job", "done", "outcome")

    def __init__(self, job: J):
        self.job = job
        self.done = False
        self.outcome: R | BaseException | Alone = ALONE


class GroupCommit(Generic[J, R]):
    """Requests of this process queued while a group is written, then written as the next
    group by ``write``: it takes the jobs in order and returns one outcome per job (a result,
    an exception to raise in the thread that asked, or :data:`ALONE`)."""

    def __init__(self, write: Callable[[list[J]], Sequence[R | BaseException | Alone]]):
        self._write = write
        self._ready = threading.Condition()
        self._queue: list[_Slot[J, R]] = []
        self._writing = False

    def submit(self, job: J) -> R | Alone:
        """``job``'s outcome once its group is written: the result, or :data:`ALONE`; an
        exception is raised here, in the thread that asked."""
        slot: _Slot[J, R] = _Slot(job)
        with self._ready:
            self._queue.append(slot)
            while self._writing and not slot.done:
                self._ready.wait()
            leader = not slot.done  # no group under way: this thread writes the next one
            if leader:
                self._writing = True
                group, self._queue = self._queue, []
        if leader:
            try:
                outcomes: Sequence[R | BaseException | Alone] = self._write([s.job for s in group])
                if len(outcomes) != len(group):
                    raise AssertionError("one outcome per job")
            except BaseException as error:  # every job of the group learns it
                outcomes = [error] * len(group)
            with self._ready:
                for member, outcome in zip(group, outcomes, strict=True):
                    member.outcome, member.done = outcome, True
                self._writing = False
                self._ready.notify_all()
        if isinstance(slot.outcome, BaseException):
            raise slot.outcome
        return slot.outcome
