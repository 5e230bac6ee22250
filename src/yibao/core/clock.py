"""The campaign date: the real one, or ``settings.YIBAO_TODAY`` for demos and past years.

Everything that asks "what day is it" for a rule (quotes, deadlines) goes through here.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone


def today() -> dt.date:
    """The campaign date in Asia/Shanghai: ``YIBAO_TODAY`` when set, else the real date."""
    fixed = getattr(settings, "YIBAO_TODAY", None)
    if fixed:
        return fixed if isinstance(fixed, dt.date) else dt.date.fromisoformat(str(fixed))
    return timezone.localdate()


def now() -> dt.datetime:
    """An aware timestamp on the campaign date, with the real time of day."""
    real = timezone.localtime()
    day = today()
    if day == real.date():
        return real
    return real.replace(year=day.year, month=day.month, day=day.day)
