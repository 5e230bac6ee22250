"""未缴名单: who in my village has not paid, with phone numbers and what came of each call."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from yibao.collection.campaign import UNPAID_GROUPS, age_group, unpaid_list
from yibao.collection.models import ContactAttempt
from yibao.collection.services import contact_record
from yibao.core.access import access_person, access_village
from yibao.registry.selectors import village_list
from yibao.transfer.unpaid import unpaid_workbook
from yibao.transfer.workbook import XLSX_TYPE

from ..roles import DESK, role_required
from .common import actor_policy, paged

PAGE_SIZE = 30  # a phone scrolls 30 cards comfortably; the counts above cover every page


def _village(request: HttpRequest) -> Any:
    villages = list(village_list(actor=request.user))
    chosen = request.GET.get("village") or request.POST.get("village")
    if chosen:
        return access_village(request.user, int(chosen)), villages
    return (villages[0] if villages else None), villages


def _choice(request: HttpRequest) -> tuple[Any, list[Any], str, int]:
    village, villages = _village(request)
    group = request.GET.get("group", "")
    group = group if group in UNPAID_GROUPS else ""
    return village, villages, group, actor_policy(request.user).benefit_year


def _rows(request: HttpRequest) -> tuple[Any, list[Any], list[Any], str, int]:
    village, villages, group, year = _choice(request)
    rows = (
        unpaid_list(
            actor=request.user,
            village=village,
            benefit_year=year,
            group=group or None,
        )
        if village is not None
        else []
    )
    return village, villages, rows, group, year


@require_GET
@role_required(*DESK)
def unpaid(request: HttpRequest) -> HttpResponse:
    village, villages, rows, group, year = _rows(request)
    counts = {key: 0 for key in UNPAID_GROUPS}
    if not group:
        for row in rows:
            counts[row.group] += 1
    page, query = paged(request, rows, PAGE_SIZE)
    context = {
        "village": village,
        "villages": villages,
        "total": len(rows),
        "page": page,
        "query": query,
        "rows": [{"row": r, "age_group": age_group(r.person.birth_date)} for r in page.object_list],
        "group": group,
        "groups": UNPAID_GROUPS,
        "counts": counts,
        "year": year,
        "outcomes": ContactAttempt.Outcome.choices,
    }
    return render(request, "web/desk/unpaid.html", context)


@require_GET
@role_required(*DESK)
def unpaid_export(request: HttpRequest) -> HttpResponse:
    village, _villages, group, year = _choice(request)
    if village is None:
        raise Http404("没有可导出的村（社区）")
    data, _count = unpaid_workbook(
        actor=request.user, village=village, benefit_year=year, group=group or None
    )
    response = HttpResponse(data, content_type=XLSX_TYPE)
    filename = f"{village.name}{year}年度未缴名单.xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@require_POST
@role_required(*DESK)
def contact(request: HttpRequest, person_id: int) -> HttpResponse:
    person = access_person(request.user, person_id)
    engine = actor_policy(request.user)
    attempt = contact_record(
        actor=request.user,
        person=person,
        benefit_year=engine.benefit_year,
        outcome=request.POST.get("outcome", ""),
        note=request.POST.get("note", ""),
    )
    if request.htmx:
        return HttpResponse(f'<span class="tag tag-info">{attempt.get_outcome_display()}</span>')
    messages.success(request, f"已记录：{person.name} {attempt.get_outcome_display()}")
    query = request.POST.get("back_query", "")
    return redirect(reverse("web:unpaid") + (f"?{query}" if query else ""))
