"""补录往日缴费: an office enters a payment made on an earlier day (a paper receipt from an
outage), priced on that day, with a reason and the village collector who took the money.
A thin view over ``payment_submit`` (the same rules as the API and ``yibao pay``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from yibao.collection.campaign import tier_quotes
from yibao.collection.selectors import village_collectors
from yibao.collection.services import backdate_days, payment_submit
from yibao.core import clock
from yibao.core.access import access_collector, access_person
from yibao.core.errors import ApplicationError
from yibao.core.rmb import amount_in_words

from ..roles import OFFICE, role_required
from .common import actor_policy
from .desk import CHANNELS

FIELDS = (
    "paid_on", "tier", "channel", "reason", "taken_by", "receipt_number", "key", "shown"
)  # fmt: skip
ERROR_FIELDS = {
    "backdate_reason_required": "reason",
    "backdate_too_old": "paid_on",
    "paid_in_future": "paid_on",
    "collector_not_of_village": "taken_by",
    "offline_place": "taken_by",
    "receipt_conflict": "receipt_number",
    "day_closed": "paid_on",
}
NOON = dt.time(12, 0)


@require_http_methods(["GET", "POST"])
@role_required(*OFFICE)
def backdate(request: HttpRequest, person_id: int) -> HttpResponse:
    """GET: the form. POST ``preview``: the quote on that day, the amount in figures and
    words. POST ``confirm``: record it (the same idempotency key returns the same payment)."""
    actor = request.user
    subject = access_person(actor, person_id)
    engine = actor_policy(actor)
    data = request.POST if request.method == "POST" else request.GET
    form = {k: data.get(k, "").strip()[:200] for k in FIELDS}
    form["key"] = form["key"] or uuid.uuid4().hex
    form["tier"] = form["tier"] if form["tier"] in ("1", "2") else "1"
    form["channel"] = form["channel"] or "cash"
    errors: dict[str, str] = {}
    quote = quote_shown = None
    if request.method == "POST":
        paid_on, taker = _parse(actor, form, errors)
        if paid_on is not None:
            priced = tier_quotes(actor=actor, person=subject, engine=engine, on=paid_on)
            chosen = next(q for q in priced if q.tier == int(form["tier"]))
            if chosen.refusal is not None:
                errors["paid_on"] = chosen.refusal.message
            quote = chosen.quote
        if quote is not None and "confirm" in data and form["shown"] != str(quote.personal):
            # The day or tier changed after the amount was shown: show the new one first.
            errors["general"] = f"缴费日期或档次已改，应收{quote.personal}元，请核对后再确认"
            quote_shown = quote
        if quote is not None and paid_on is not None and not errors and "confirm" in data:
            try:
                result = payment_submit(
                    actor=actor,
                    person=subject,
                    policy_id=engine.id,
                    tier=int(form["tier"]),
                    amount=quote.personal,
                    channel=form["channel"],
                    paid_at=dt.datetime.combine(paid_on, NOON, tzinfo=clock.now().tzinfo),
                    backdate_reason=form["reason"],
                    receipt_number=form["receipt_number"] or None,
                    idempotency_key=form["key"],
                    taken_by=taker,
                )
            except ApplicationError as error:
                if error.code in ("not_found", "office_required", "read_only"):
                    raise
                errors[ERROR_FIELDS.get(error.code, "general")] = error.message
            else:
                messages.success(
                    request,
                    f"已为{subject.name}补录{paid_on}缴纳的{engine.benefit_year}年度"
                    f"{result.payment.amount}元",
                )
                return redirect(reverse("web:receipt", args=[form["key"]]) + "?new=1")
    context = {
        "subject": subject,
        "policy": engine,
        "year": engine.benefit_year,
        "form": form,
        "errors": errors,
        "quote": quote if not errors else quote_shown,
        "words": amount_in_words(quote.personal) if quote is not None else "",
        "channels": CHANNELS,
        "collectors": village_collectors(
            actor=actor,
            villages=[v for v in (subject.hukou_village, subject.residence_village) if v],
        ),
        "today": clock.today(),
        "earliest": clock.today() - dt.timedelta(days=backdate_days()),
    }
    return render(request, "web/desk/backdate.html", context, status=400 if errors else 200)


def _parse(actor: Any, form: dict[str, str], errors: dict[str, str]) -> tuple[Any, Any]:
    paid_on = None
    try:
        paid_on = dt.date.fromisoformat(form["paid_on"])
    except ValueError:
        errors["paid_on"] = "请填写纸质票据上的缴费日期（YYYY-MM-DD）"
    if not form["reason"]:
        errors["reason"] = "请写明补录原因（如停电期间的纸质票据）"
    taker = None
    if form["taken_by"]:
        try:
            taker = access_collector(actor, int(form["taken_by"]))
        except (ValueError, ApplicationError):
            errors["taken_by"] = "请从本村（社区）征收员中选择"
    return paid_on, taker
