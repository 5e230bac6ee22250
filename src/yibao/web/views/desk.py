"""The collector's desk: search, the person's card, the quote, the payment, the receipt."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yibao.collection.campaign import (
    age_group,
    desk_statuses,
    payments_by_key,
    person_card,
    tier_quotes,
)
from yibao.collection.models import EnrollmentFact, Payment
from yibao.collection.selectors import enrollment_facts
from yibao.collection.services import (
    PaymentItem,
    enrollment_fact_end,
    enrollment_fact_record,
    payment_record_many,
    receipt_print,
    receipt_printed_count,
)
from yibao.core.access import access_enrollment_fact, access_payment, access_person
from yibao.core.errors import ApplicationError
from yibao.core.rmb import amount_in_words
from yibao.funds.receipts import receipt_next
from yibao.funds.selectors import cash_warning
from yibao.registry.selectors import person_list
from yibao.registry.services import person_full_id_number, person_search_record

from ..roles import DESK, OFFICE, role_required
from .common import actor_policy

SEARCH_LIMIT = 20
# Cash first: a village desk takes cash by default (UI.md), then the POS, then the rest.
CHANNELS = [
    (Payment.Channel.CASH.value, Payment.Channel.CASH.label),
    (Payment.Channel.VILLAGE_POS.value, Payment.Channel.VILLAGE_POS.label),
    *[(c.value, c.label) for c in Payment.Channel if c not in ("cash", "village_pos")],
]
TIER_NAMES = {1: "一档", 2: "二档"}


@require_GET
@role_required(*DESK)
def desk(request: HttpRequest) -> HttpResponse:
    """The search box is the home page of a collector; results as cards."""
    query = request.GET.get("q", "").strip()[:40]
    engine = actor_policy(request.user)
    results: list[dict[str, Any]] = []
    more = False
    if query:
        found = list(person_list(actor=request.user, search=query)[: SEARCH_LIMIT + 1])
        person_search_record(actor=request.user, search=query, found=found)
        more = len(found) > SEARCH_LIMIT
        found = found[:SEARCH_LIMIT]
        statuses = desk_statuses(found, engine.benefit_year)
        results = [
            {"person": p, "status": statuses[p.pk], "age_group": age_group(p.birth_date)}
            for p in found
        ]
    context = {
        "query": query,
        "results": results,
        "more": more,
        "year": engine.benefit_year,
        "policy": engine,
    }
    template = "web/desk/_results.html" if request.htmx else "web/desk/search.html"
    return render(request, template, context)


@require_GET
@role_required(*DESK)
def person(request: HttpRequest, person_id: int) -> HttpResponse:
    return _person_page(request, access_person(request.user, person_id))


def _person_page(
    request: HttpRequest,
    subject: Any,
    *,
    fact_form: dict[str, str] | None = None,
    fact_errors: dict[str, str] | None = None,
    http_status: int = 200,
) -> HttpResponse:
    """The person's card; with a refused office entry's form and its errors on a bad submit."""
    actor = request.user
    engine = actor_policy(actor)
    card = person_card(actor=actor, person=subject, benefit_year=engine.benefit_year)
    members = []
    for member in card.members:
        status = card.statuses[member.pk]
        quotes = (
            []
            if status.settled or status.key == "deceased"
            else tier_quotes(actor=actor, person=member, engine=engine)
        )
        last = next(iter(card.history), None) if member.pk == subject.pk else None
        members.append(
            {
                "person": member,
                "status": status,
                "age_group": age_group(member.birth_date),
                "quotes": quotes,
                "payable": any(q.quote is not None for q in quotes),
                "default_tier": _default_tier(quotes, status, last),
                "checked": member.pk == subject.pk,
                "receipt_url": _receipt_url(status),
            }
        )
    context = {
        "subject": subject,
        "card": card,
        "members": members,
        "me": next(m for m in members if m["person"].pk == subject.pk),
        "year": engine.benefit_year,
        "policy": engine,
        "tier_notes": _tier_notes(engine),
        "any_payable": any(m["payable"] for m in members),
        "facts": enrollment_facts(actor=actor, person=subject, benefit_year=engine.benefit_year),
        "fact_kinds": EnrollmentFact.Kind.choices,
        "fact_form": fact_form or {},
        "fact_errors": fact_errors or {},
    }
    me = context["me"]
    context["missing_document"] = next(
        (
            q.refusal.message
            for q in me["quotes"]
            if q.refusal is not None and q.refusal.code == "subsidy_rule_missing"
        ),
        "",
    )
    return render(request, "web/desk/person.html", context, status=http_status)


FACT_FIELDS = {
    "reason_required": "reason",
    "dates_required": "starts_on",
    "invalid_window": "starts_on",
    "invalid_date": "starts_on",
}


@require_POST
@role_required(*OFFICE)
def fact_add(request: HttpRequest, person_id: int) -> HttpResponse:
    """An office records a fact about the person's benefit year (enrolling without a missing
    document's subsidy, graduating, 预参保); a refusal is shown beside the field."""
    actor = request.user
    subject = access_person(actor, person_id)
    form = {k: request.POST.get(k, "").strip() for k in ("kind", "reason", "starts_on", "ends_on")}
    errors: dict[str, str] = {}
    dates: dict[str, dt.date | None] = {}
    for field in ("starts_on", "ends_on"):
        try:
            dates[field] = dt.date.fromisoformat(form[field]) if form[field] else None
        except ValueError:
            errors[field] = "日期格式应为 YYYY-MM-DD"
    if not errors:
        try:
            fact = enrollment_fact_record(
                actor=actor,
                person=subject,
                policy_id=actor_policy(actor).id,
                kind=form["kind"],
                reason=form["reason"],
                starts_on=dates["starts_on"],
                ends_on=dates["ends_on"],
            )
        except ApplicationError as error:
            if error.code in ("not_found", "office_required", "read_only"):
                raise
            errors[FACT_FIELDS.get(error.code, "kind")] = error.message
        else:
            messages.success(request, f"已为{subject.name}登记“{fact.get_kind_display()}”")
            return redirect(reverse("web:person", args=[subject.pk]))
    return _person_page(request, subject, fact_form=form, fact_errors=errors, http_status=400)


@require_POST
@role_required(*OFFICE)
def fact_end(request: HttpRequest, fact_id: int) -> HttpResponse:
    """An office revokes a recorded fact, with a reason."""
    actor = request.user
    fact = access_enrollment_fact(actor, fact_id)
    try:
        enrollment_fact_end(actor=actor, fact=fact, reason=request.POST.get("reason", ""))
    except ApplicationError as error:
        if error.code in ("not_found", "office_required", "read_only"):
            raise
        return _person_page(
            request, fact.person, fact_errors={f"end_{fact.pk}": error.message}, http_status=400
        )
    messages.success(request, f"已撤销{fact.person.name}的“{fact.get_kind_display()}”")
    return redirect(reverse("web:person", args=[fact.person_id]))


def _receipt_url(status: Any) -> str:
    """Where a settled member's receipt is printed again (补打)."""
    payment = status.payment if status.settled else None
    if payment is None:
        return ""
    if payment.idempotency_key:
        return reverse("web:receipt", args=[payment.idempotency_key.split(":")[0]])
    return reverse("web:payment_receipt", args=[payment.pk])


@require_POST
@role_required(*DESK)
def person_id_number(request: HttpRequest, person_id: int) -> HttpResponse:
    """The full ID number on one person's card, on request; the read is audited."""
    subject = access_person(request.user, person_id)
    number = person_full_id_number(actor=request.user, person=subject)
    if request.htmx:
        return HttpResponse(f'<span data-test="full-id">{escape(number)}</span>')
    messages.info(request, f"{subject.name}的证件号码：{number}（本次查看已记录）")
    return redirect(reverse("web:person", args=[subject.pk]))


def _default_tier(quotes: list[Any], status: Any, last: Any) -> int:
    open_tiers = [q.tier for q in quotes if q.quote is not None]
    for tier in (status.tier, getattr(last, "tier", None), 1):
        if tier in open_tiers:
            return int(tier)
    return open_tiers[0] if open_tiers else 1


def _tier_notes(engine: Any) -> list[str]:
    """What each tier buys, where the document says it (算好经济账)."""
    notes = getattr(engine.data, "tier_benefits", None)
    return list(notes or [])


def _selection(request: HttpRequest) -> list[tuple[int, int]]:
    """(person id, tier) of the members ticked on the card, in the order shown."""
    data = request.POST if request.method == "POST" else request.GET
    chosen = []
    for raw in data.getlist("m"):
        try:
            person_id = int(raw)
            tier = int(data.get(f"tier_{person_id}", "1"))
        except ValueError:
            continue
        if tier in (1, 2) and (person_id, tier) not in chosen:
            chosen.append((person_id, tier))
    return chosen


def _lines(request: HttpRequest, chosen: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """Each chosen member with the server's quote for the chosen tier (or its refusal)."""
    actor = request.user
    engine = actor_policy(actor)
    lines = []
    for person_id, tier in chosen:
        member = access_person(actor, person_id)
        quote = next(
            q for q in tier_quotes(actor=actor, person=member, engine=engine) if q.tier == tier
        )
        lines.append(
            {"person": member, "tier": tier, "tier_name": TIER_NAMES[tier], "quote": quote}
        )
    return lines


@require_http_methods(["GET", "POST"])
@role_required(*DESK)
def pay(request: HttpRequest) -> HttpResponse:
    """GET: the confirmation (amount from the server's quote, in figures and words, with a
    fresh idempotency key). POST: record every chosen member's payment, all or nothing; a
    replay of the same key returns the same payments and the same receipt."""
    chosen = _selection(request)
    if not chosen:
        messages.error(request, "请至少勾选一名要缴费的人员")
        back = request.GET.get("back") or request.POST.get("back") or reverse("web:desk")
        return redirect(back if back.startswith("/") else reverse("web:desk"))
    engine = actor_policy(request.user)
    errors: dict[str, str] = {}
    form = {
        "channel": request.POST.get("channel", Payment.Channel.CASH.value),
        "receipt_number": request.POST.get("receipt_number", "").strip()[:60],
        "key": request.POST.get("key") or uuid.uuid4().hex,
    }
    if request.method == "POST":
        result = _record(request, engine, chosen, form, errors)
        if result is not None:
            return result
    lines = _lines(request, chosen)
    refused = [line for line in lines if line["quote"].quote is None]
    total = sum((line["quote"].quote.personal for line in lines if line["quote"].quote), Decimal(0))
    context = {
        "lines": lines,
        "refused": refused,
        "total": total,
        "total_words": amount_in_words(total),
        "channels": CHANNELS,
        "form": form,
        "errors": errors,
        "year": engine.benefit_year,
        "policy": engine,
        "back": request.GET.get("back") or request.POST.get("back") or "",
        "cash_warning": cash_warning(actor=request.user, adding=total),
        "book_receipts": receipt_next(actor=request.user, count=len(lines)),
    }
    status = 400 if errors else 200
    return render(request, "web/desk/confirm.html", context, status=status)


def _record(
    request: HttpRequest,
    engine: Any,
    chosen: list[tuple[int, int]],
    form: dict[str, str],
    errors: dict[str, str],
) -> HttpResponse | None:
    actor = request.user
    key = form["key"]
    if not (8 <= len(key) <= 40 and key.replace("-", "").isalnum()):
        errors["general"] = "提交的表单已失效，请重新确认"
        form["key"] = uuid.uuid4().hex
        return None
    if form["channel"] not in Payment.Channel.values:
        errors["channel"] = "请选择缴费渠道"
        return None
    several = len(chosen) > 1
    # Cash takes the next numbers of the collector's receipt book (现金收缴凭证), if any.
    book = receipt_next(actor=actor, count=len(chosen)) if form["channel"] == "cash" else []
    if book and payments_by_key(actor=actor, key=key):
        return redirect(reverse("web:receipt", args=[key]) + "?new=1")  # a replayed submit
    items = []
    for index, (person_id, tier) in enumerate(chosen, start=1):
        member = access_person(actor, person_id)
        amount = request.POST.get(f"amount_{person_id}", "")
        receipt = form["receipt_number"] or None
        items.append(
            PaymentItem(
                person=member,
                policy_id=engine.id,
                tier=tier,
                amount=amount,
                channel=form["channel"],
                receipt_number=book[index - 1]
                if book
                else (f"{receipt}-{index}" if receipt and several else receipt),
                idempotency_key=f"{key}:{person_id}" if several else key,
            )
        )
    try:
        payment_record_many(actor=actor, items=items)
    except ApplicationError as error:
        field = "receipt_number" if error.code == "receipt_conflict" else "general"
        errors[field] = error.message
        return None
    return redirect(reverse("web:receipt", args=[key]) + "?new=1")


@require_GET
@role_required(*DESK)
def receipt(request: HttpRequest, key: str) -> HttpResponse:
    """缴费凭证 for one desk submission; printed on a 58 mm slip or A4; later views say 补打."""
    payments = payments_by_key(actor=request.user, key=key)
    if not payments:
        raise Http404("找不到该缴费凭证")
    return _receipt_page(request, payments, key)


@require_GET
@role_required(*DESK)
def payment_receipt(request: HttpRequest, payment_id: int) -> HttpResponse:
    """The receipt of one payment recorded without a desk key (an import, the API)."""
    payment = access_payment(request.user, payment_id)
    if payment.is_reversal:
        raise Http404("冲正记录没有缴费凭证")
    return _receipt_page(request, [payment], "")


def _receipt_page(request: HttpRequest, payments: list[Payment], key: str) -> HttpResponse:
    first = payments[0]
    total = sum((p.amount for p in payments), Decimal(0))
    paper = "a4" if request.GET.get("paper") == "a4" else "58"
    if request.GET.get("print") == "1":
        reprint = receipt_print(actor=request.user, payment=first) > 0
    else:
        reprint = receipt_printed_count(first) > 0
    context = {
        "payments": [
            {
                "payment": p,
                "enrollment": p.enrollment,
                "person": p.enrollment.person,
                "tier_name": TIER_NAMES.get(p.enrollment.tier, ""),
                "words": amount_in_words(p.amount),
            }
            for p in payments
        ],
        "first": first,
        "village": first.enrollment.village,
        "township": first.enrollment.village.township,
        "total": total,
        "total_words": amount_in_words(total),
        "key": key,
        "reprint": reprint,
        "just_paid": request.GET.get("new") == "1",
        "paper": paper,
        "autoprint": request.GET.get("print") == "1",
    }
    return render(request, "web/desk/receipt.html", context)
