"""A township's bulletin schedule (通报): the dates a policy's reporting periods name."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

from .model import EnrollmentFloor, Policy, ReportingPeriod

DEKAD_DAYS = (10, 20)  # 旬: the 10th, the 20th and the last day of the month
WEEK = 7


def _period_dates(period: ReportingPeriod, end: date) -> list[date]:
    days: list[date] = []
    day = period.starts
    while day <= end:
        if period.every == "day":
            days.append(day)
        elif period.every == "dekad":
            last = calendar.monthrange(day.year, day.month)[1]
            if day.day in DEKAD_DAYS or day.day == last:
                days.append(day)
        elif period.weekday is not None:
            if day.weekday() == period.weekday:
                days.append(day)
        elif (day - period.starts).days % WEEK == WEEK - 1:
            # Weekly without a named weekday: the last day of each full week of the period.
            days.append(day)
        day += timedelta(days=1)
    return days


def bulletin_dates(policy: Policy) -> list[date]:
    """Every date the policy's reporting schedule names, in order.

    A dekad bulletin falls on the 10th, the 20th and the month's last day; a weekly one on the
    named weekday, or else on the 7th, 14th, ... day of the period; a daily one every day. A
    period without an end runs to the end of the collection period.
    """
    reporting = policy.reporting
    if reporting is None:
        return []
    found: set[date] = set()
    for period in reporting.periods:
        end = period.ends or policy.collection.period_end
        found.update(_period_dates(period, end))
    return sorted(found)


def previous_bulletin_date(policy: Policy, on: date) -> date | None:
    """The scheduled bulletin date before ``on``, if any."""
    earlier = [d for d in bulletin_dates(policy) if d < on]
    return earlier[-1] if earlier else None


def below_floor(floor: EnrollmentFloor, *, paid: int, base: int) -> bool:
    """Whether ``paid`` of ``base`` falls short of the floor's rate, exactly (no rounding):
    95%以上 includes 95% itself, so 95 of 100 meets it and 949 of 1000 does not. Nothing to
    measure against (``base`` 0) is not below."""
    if base <= 0:
        return False
    return Decimal(paid) * 100 < floor.percent * base
