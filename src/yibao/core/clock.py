"""The campaign date: the real one, or ``settings.YIBAO_TODAY`` for demos and past years.

Everything that asks "what day is it" for a rule (quotes, deadlines) goes through here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.utils import timezone

_FROZEN: ContextVar[dt.datetime | None] = ContextVar("yibao_clock_frozen", default=None)


@contextmanager
def frozen(moment: dt.datetime) -> Iterator[None]:
    """The server's clock stands at ``moment`` (an aware timestamp) inside the block.

    For replaying a campaign's history (the demo): the services then price and stamp what
    they record as of that moment, as the server did on the day.
    """
    if timezone.is_naive(moment):
        raise ValueError("clock.frozen needs an aware timestamp")
    token = _FROZEN.set(moment)
    try:
        yield
    finally:
        _FROZEN.reset(token)


def today() -> dt.date:
    """The campaign date in Asia/Shanghai: ``YIBAO_TODAY`` when set, else the real date."""
    moment = _FROZEN.get()
    if moment is not None:
        return timezone.localtime(moment).date()
    fixed = getattr(settings, "YIBAO_TODAY", None)
    if fixed:
        return fixed if isinstance(fixed, dt.date) else dt.date.fromisoformat(str(fixed))
    return timezone.localdate()


def now() -> dt.datetime:
    """An aware timestamp on the campaign date, with the real time of day."""
    moment = _FROZEN.get()
    if moment is not None:
        return moment
    real = timezone.localtime()
    day = today()
    if day == real.date():
        return real
    return real.replace(year=day.year, month=day.month, day=day.day)
