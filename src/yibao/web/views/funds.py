"""Fund safety pages: the cash limits (双限报解), the daily close (日结)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yibao.collection.models import StaffMember
from yibao.collection.selectors import collectors_in_scope
from yibao.core import clock
from yibao.core.access import access_collector, access_village
from yibao.core.errors import ApplicationError
from yibao.funds.models import DailyClose
from yibao.funds.notice import notice_title, notice_workbook, public_notice
from yibao.funds.receipts import (
    access_receipt_book,
    receipt_book_issue,
    receipt_book_list,
    receipt_report,
    receipt_void,
)
from yibao.funds.selectors import (
    access_daily_close,
    actor_township,
    closed_day_entries,
    collector_township,
    daily_close_list,
    day_figures,
    township_limits,
)
from yibao.funds.services import cash_limit_set, daily_close, daily_close_acknowledge
from yibao.funds.tax import KINDS, tax_import_list, tax_payments_import
from yibao.intake.uploads import uploaded_path
from yibao.registry.selectors import village_list
from yibao.transfer.workbook import XLSX_TYPE

from ..roles import OFFICE, READERS, actor_role, role_required
from .common import actor_policy, error_page


@require_http_methods(["GET", "POST"])
@role_required(*OFFICE)
def limits(request: HttpRequest) -> HttpResponse:
    """The township's amount and time limits for cash held by a collector."""
    township = actor_township(request.user)
    current = township_limits(township)
    form = {"amount": f"{current.amount:.2f}", "days": str(current.days)}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {key: request.POST.get(key, "").strip()[:20] for key in ("amount", "days")}
        if township is None:
            errors["general"] = "您的账号没有对应的街道（镇），不能设置"
        else:
            try:
                cash_limit_set(
                    actor=request.user, township=township, amount=form["amount"], days=form["days"]
                )
            except ApplicationError as error:
                errors[error.params.get("field", "general")] = error.message
            else:
                messages.success(
                    request,
                    f"已设置{township.name}现金双限：限额{form['amount']}元，限时{form['days']}天",
                )
                return redirect("web:cash_limits")
    context = {"township": township, "limits": current, "form": form, "errors": errors}
    return render(request, "web/funds/limits.html", context, status=400 if errors else 200)


# --- daily close (日结) -------------------------------------------------------------------


def _day(raw: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(raw) if raw else clock.today()
    except ValueError:
        return clock.today()


@require_http_methods(["GET", "POST"])
@role_required(*READERS)
def close(request: HttpRequest) -> HttpResponse:
    """日结: a collector sees the day's figures and closes it; an office sees the closed days
    of its collectors and acknowledges them."""
    actor = request.user
    collector = StaffMember.objects.filter(user=actor, role=StaffMember.Role.COLLECTOR).first()
    day = _day(request.POST.get("day") or request.GET.get("day"))
    if request.method == "POST":
        if collector is None:
            return redirect("web:close")
        try:
            closed = daily_close(actor=actor, collector=collector, day=day)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect(reverse("web:close") + f"?day={day.isoformat()}")
        messages.success(request, f"{day:%Y年%-m月%-d日}已日结，请打印日结单交街道社保所确认")
        return redirect("web:close_print", close_id=closed.pk)
    context: dict[str, Any] = {"day": day, "today": clock.today(), "collector": collector}
    if collector is not None:
        context["figures"] = day_figures(actor=actor, collector=collector, day=day)
        context["closed"] = DailyClose.objects.filter(collector=collector, day=day).first()
        context["closes"] = list(daily_close_list(actor=actor, collector=collector)[:30])
    else:
        context["closes"] = list(daily_close_list(actor=actor)[:200])
        context["may_acknowledge"] = actor_role(actor) in OFFICE
    return render(request, "web/funds/close.html", context)


@require_GET
@role_required(*READERS)
def close_print(request: HttpRequest, close_id: int) -> HttpResponse:
    """The closed day as an A4 sheet: figures, every entry of the day, signatures."""
    try:
        closed = access_daily_close(request.user, close_id)
    except ApplicationError as error:
        return error_page(request, error)
    context = {
        "close": closed,
        "entries": list(closed_day_entries(actor=request.user, close=closed)),
        "township": collector_township(closed.collector),
        "villages": "、".join(v.name for v in closed.collector.villages.order_by("seq", "pk")),
        "may_acknowledge": actor_role(request.user) in OFFICE and closed.acknowledged_at is None,
    }
    return render(request, "web/funds/close_print.html", context)


@require_POST
@role_required(*OFFICE)
def close_acknowledge(request: HttpRequest, close_id: int) -> HttpResponse:
    try:
        closed = access_daily_close(request.user, close_id)
        daily_close_acknowledge(actor=request.user, close=closed)
    except ApplicationError as error:
        return error_page(request, error)
    messages.success(request, f"已确认{closed.collector}{closed.day:%Y年%-m月%-d日}的日结")
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else "web:close")


# --- the tax system's payment list ---------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(*OFFICE)
def tax(request: HttpRequest) -> HttpResponse:
    """税务缴费明细: upload the tax system's list; the report names every discrepancy."""
    report = None
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = "请选择税务系统导出的缴费明细（.xlsx 或 .csv）"
        else:
            try:
                with uploaded_path(upload) as path:
                    report = tax_payments_import(actor=request.user, path=path)
            except ApplicationError as refusal:
                error = refusal.message
    context = {
        "report": report,
        "error": error,
        "imports": list(tax_import_list(actor=request.user)[:20]),
        "kinds": KINDS,
    }
    return render(request, "web/funds/tax.html", context, status=400 if error else 200)


# --- public notice (缴费信息公示) -----------------------------------------------------------


def _notice_village(request: HttpRequest) -> Any:
    villages = list(village_list(actor=request.user))
    raw = request.GET.get("village", "")
    if raw.isdigit():
        return access_village(request.user, int(raw)), villages
    return (villages[0] if villages else None), villages


@require_GET
@role_required(*READERS)
def notice(request: HttpRequest) -> HttpResponse:
    """A village's payers of the year, names partly masked: a printable A4 page."""
    try:
        village, villages = _notice_village(request)
    except ApplicationError as error:
        return error_page(request, error)
    year = actor_policy(request.user).benefit_year
    rows = public_notice(actor=request.user, village=village, benefit_year=year) if village else []
    context = {
        "village": village,
        "villages": villages,
        "year": year,
        "rows": rows,
        "title": notice_title(village, year) if village else "缴费信息公示",
        "today": clock.today(),
    }
    return render(request, "web/funds/notice.html", context)


@require_GET
@role_required(*READERS)
def notice_export(request: HttpRequest) -> HttpResponse:
    try:
        village, _ = _notice_village(request)
    except ApplicationError as error:
        return error_page(request, error)
    if village is None:
        return redirect("web:notice")
    year = actor_policy(request.user).benefit_year
    data = notice_workbook(actor=request.user, village=village, benefit_year=year)
    response = HttpResponse(data, content_type=XLSX_TYPE)
    name = quote(f"{village.name}{year}年度缴费公示.xlsx")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response


# --- receipt books (现金收缴凭证) -----------------------------------------------------------

ISSUE_FIELDS = ("collector", "prefix", "first", "last")
VOID_FIELDS = ("book", "number", "reason")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1


@require_http_methods(["GET", "POST"])
@role_required(*READERS)
def receipts(request: HttpRequest) -> HttpResponse:
    """Receipt books: the office issues ranges; a collector (or the office) voids a receipt
    with the reason; everyone in scope sees the report of gaps, duplicates and outside."""
    actor = request.user
    office = actor_role(actor) in OFFICE
    issue = {k: request.POST.get(k, "").strip()[:20] for k in ISSUE_FIELDS}
    void = {k: request.POST.get(k, "").strip()[:200] for k in VOID_FIELDS}
    errors: dict[str, str] = {}
    action = request.POST.get("action")
    if request.method == "POST":
        try:
            if action == "issue":
                collector = access_collector(actor, _int(issue["collector"]))
                book = receipt_book_issue(
                    actor=actor,
                    collector=collector,
                    prefix=issue["prefix"],
                    first=_int(issue["first"]),
                    last=_int(issue["last"]),
                )
                messages.success(request, f"已向{collector.user.username}发放收据{book}")
                return redirect("web:receipts")
            if action == "void":
                book = access_receipt_book(actor, _int(void["book"]))
                voided = receipt_void(
                    actor=actor, book=book, number=_int(void["number"]), reason=void["reason"]
                )
                messages.success(request, f"已作废收据{book.number(voided.number)}")
                return redirect("web:receipts")
        except ApplicationError as error:
            errors[f"{action}_{error.params.get('field', 'general')}"] = error.message
    context = {
        "office": office,
        "report": receipt_report(actor=actor),
        "collectors": list(collectors_in_scope(actor).select_related("user")) if office else [],
        "books": list(receipt_book_list(actor=actor)),
        "issue": issue,
        "void": void,
        "errors": errors,
    }
    return render(request, "web/funds/receipts.html", context, status=400 if errors else 200)
