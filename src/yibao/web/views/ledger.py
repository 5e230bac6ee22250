"""台账: a village's ledger with filters, paginated on the server, exported as on screen."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from yibao.collection.selectors import LEDGER_STATUSES, LedgerRow, ledger_people, ledger_rows
from yibao.core.access import access_village
from yibao.registry.selectors import village_list
from yibao.transfer.workbook import XLSX_TYPE, table_workbook

from ..roles import READERS, role_required
from .common import actor_policy, paged

PAGE_SIZE = 50
STATUSES = list(LEDGER_STATUSES)
HEADERS = [
    "姓名", "证件号码", "户", "状态", "档次", "资助身份", "缴费标准", "资助金额", "个人缴费",
    "已缴金额", "渠道", "缴费时间", "待遇起", "待遇止",
]  # fmt: skip


def _filtered(request: HttpRequest) -> tuple[Any, list[Any], Any, dict[str, str], int]:
    """The village, the villages to choose from, the filtered persons (a query), the
    filters and the benefit year."""
    actor = request.user
    villages = list(village_list(actor=actor))
    chosen = request.GET.get("village")
    village = access_village(actor, int(chosen)) if chosen else (villages[0] if villages else None)
    year = actor_policy(actor).benefit_year
    filters = {
        "status": request.GET.get("status", ""),
        "q": request.GET.get("q", "").strip()[:20],
        "sort": request.GET.get("sort", ""),
    }
    people = (
        ledger_people(
            actor=actor,
            village=village,
            benefit_year=year,
            status=filters["status"],
            search=filters["q"],
            order=filters["sort"],
        )
        if village
        else None
    )
    return village, villages, people, filters, year


def _line(r: LedgerRow) -> list[Any]:
    return [
        r.name, r.masked_id_number, r.household, r.status,
        {1: "一档", 2: "二档"}.get(r.tier or 0, ""), r.identity,
        r.standard, r.subsidy, r.personal, r.paid, r.channel,
        timezone.localtime(r.paid_at).strftime("%Y-%m-%d %H:%M") if r.paid_at else "",
        r.coverage_start.isoformat() if r.coverage_start else "",
        r.coverage_end.isoformat() if r.coverage_end else "",
    ]  # fmt: skip


@require_GET
@role_required(*READERS)
def ledger(request: HttpRequest) -> HttpResponse:
    village, villages, people, filters, year = _filtered(request)
    page, query = paged(request, people if people is not None else [], PAGE_SIZE)
    rows = (
        ledger_rows(persons=list(page.object_list), village=village, benefit_year=year)
        if village
        else []
    )
    context = {
        "village": village,
        "villages": villages,
        "page": page,
        "lines": [_line(r) for r in rows],
        "headers": HEADERS,
        "filters": filters,
        "statuses": STATUSES,
        "year": year,
        "total": page.paginator.count,
        "query": query,
    }
    return render(request, "web/ledger/ledger.html", context)


@require_GET
@role_required(*READERS)
def ledger_export(request: HttpRequest) -> HttpResponse:
    village, _villages, people, _filters, year = _filtered(request)
    rows = (
        ledger_rows(persons=list(people), village=village, benefit_year=year)
        if village and people is not None
        else []
    )
    name = village.name if village else ""
    data = table_workbook(
        title="台账",
        headers=HEADERS,
        rows=[_line(r) for r in rows],
        heading=f"{name} {year}年度城乡居民医保征缴台账",
    )
    response = HttpResponse(data, content_type=XLSX_TYPE)
    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{quote(name + str(year) + '年度台账.xlsx')}"
    )
    return response
