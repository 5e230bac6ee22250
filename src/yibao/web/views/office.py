"""The township dashboard: where the campaign stands, per village, by channel, by day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from yibao.core import clock
from yibao.funds.selectors import cash_status

from ..roles import OFFICE, role_required
from .common import actor_policy


@require_GET
@role_required(*OFFICE)
def dashboard(request: HttpRequest) -> HttpResponse:
    from yibao.collection import selectors

    actor = request.user
    engine = actor_policy(actor)
    today = clock.today()
    week_start = today - dt.timedelta(days=today.weekday())
    villages = selectors.village_progress(actor=actor, policy_id=engine.id)
    # One pass over the payments for the chart's money, today and this week by channel.
    days = selectors.payment_days(actor=actor, benefit_year=engine.benefit_year)
    daily = selectors.daily_progress(actor=actor, benefit_year=engine.benefit_year, days=days)
    chart: dict[str, Any] = {
        "days": [d.day.isoformat() for d in daily],
        "paid": [d.paid for d in daily],
        "cumulative": [d.cumulative_paid for d in daily],
        "target": sum(v.target for v in villages),
    }
    cash = cash_status(actor=actor)
    context = {
        "policy": engine,
        "year": engine.benefit_year,
        "today": today,
        "villages": sorted(villages, key=lambda v: v.rank),
        "totals": selectors.progress_totals(villages, floor=selectors.enrollment_floor(engine.id)),
        "floor": selectors.enrollment_floor(engine.id),
        "channels_today": selectors.channel_totals_of(days, since=today, until=today),
        "channels_week": selectors.channel_totals_of(days, since=week_start, until=today),
        "cash": cash,
        "cash_over": [row for row in cash if row.over],
        "chart_data": chart,
    }
    return render(request, "web/office/dashboard.html", context)
