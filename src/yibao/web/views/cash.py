"""我的现金: a collector's cash held and its age against the township's limits (双限报解),
today's cash entries, remittances, and the remittance form; an office opens any collector's
page in its scope (``?collector=ID``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from yibao.collection.models import StaffMember
from yibao.collection.services import remittance_record
from yibao.core import clock
from yibao.core.access import access_collector
from yibao.core.errors import ApplicationError
from yibao.funds.selectors import (
    cash_payments,
    cash_status,
    collector_cash_status,
    remittance_list,
)

from ..roles import DESK, role_required
from .common import error_page

REMIT_FIELDS = ("amount", "bank", "slip_number", "note")


def _collector(request: HttpRequest, raw: str | None) -> StaffMember | None:
    """The collector asked for (``?collector=ID``, in scope), else the actor's own profile."""
    if raw:
        try:
            return access_collector(request.user, int(raw))  # type: ignore[no-any-return]
        except ValueError:
            return None
    return StaffMember.objects.filter(user=request.user).first()


def _page(
    request: HttpRequest,
    collector: StaffMember | None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = request.user
    today = clock.today()
    context: dict[str, Any] = {"today": today, "collector": collector}
    row = collector_cash_status(actor=actor, collector=collector) if collector else None
    if row is None:
        # An office account holds no cash: the list of its collectors instead.
        context["collectors"] = cash_status(actor=actor)
    else:
        entries = list(cash_payments(actor=actor, collector=collector, day=today))
        context.update(
            status=row,
            own=collector.user_id == actor.pk,
            entries=entries,
            count_today=sum(1 for p in entries if not p.is_reversal),
            taken_today=sum((p.amount for p in entries), 0),
            remittances=list(remittance_list(actor=actor, collector=collector)[:10]),
            form=form or {"amount": f"{row.cash.held:.2f}" if row.cash.held > 0 else ""},
            errors=errors or {},
        )
    return render(request, "web/desk/cash.html", context, status=status)


@require_GET
@role_required(*DESK)
def cash(request: HttpRequest) -> HttpResponse:
    try:
        collector = _collector(request, request.GET.get("collector"))
    except ApplicationError as error:
        return error_page(request, error)
    return _page(request, collector)


@require_POST
@role_required(*DESK)
def remit(request: HttpRequest) -> HttpResponse:
    """入库解缴: record cash handed to the bank, with the bank and the slip number."""
    try:
        collector = _collector(request, request.POST.get("collector"))
    except ApplicationError as error:
        return error_page(request, error)
    if collector is None:
        return redirect("web:cash")
    form = {key: request.POST.get(key, "").strip()[:64] for key in REMIT_FIELDS}
    errors: dict[str, str] = {}
    if not form["amount"]:
        errors["amount"] = "请填写解缴金额"
    if not form["bank"]:
        errors["bank"] = "请填写收款银行"
    if not form["slip_number"]:
        errors["slip_number"] = "请填写银行解缴凭证号"
    if not errors:
        try:
            remittance = remittance_record(
                actor=request.user,
                collector=collector,
                amount=form["amount"],
                bank=form["bank"],
                slip_number=form["slip_number"],
                note=form["note"],
            )
        except ApplicationError as error:
            field = {
                "invalid_amount": "amount",
                "remittance_exceeds_cash": "amount",
                "receipt_conflict": "slip_number",
            }.get(error.code, "general")
            errors[field] = error.message
        else:
            messages.success(
                request,
                f"已登记解缴{remittance.amount:.2f}元（{remittance.bank}，"
                f"凭证号{remittance.slip_number}）",
            )
            url = reverse("web:cash")
            if collector.user_id != request.user.pk:
                url += f"?collector={collector.pk}"
            return redirect(url)
    return _page(request, collector, form=form, errors=errors, status=400)
