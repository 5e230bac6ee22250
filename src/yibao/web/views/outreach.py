"""未缴名单: who in my village has not paid, with phone numbers and what came of each call."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from yibao.collection.campaign import UNPAID_GROUPS, age_group, unpaid_list
from yibao.collection.models import ContactAttempt
from yibao.collection.services import contact_record
from yibao.core.access import access_person, access_village
from yibao.registry.selectors import village_list
from yibao.transfer.workbook import XLSX_TYPE, table_workbook

from ..roles import DESK, role_required
from .common import actor_policy

HEADERS = [
    "序号",
    "姓名",
    "证件号码",
    "年龄段",
    "类别",
    "身份",
    "联系电话",
    "已登记",
    "最近联系结果",
]


def _village(request: HttpRequest) -> Any:
    villages = list(village_list(actor=request.user))
    chosen = request.GET.get("village") or request.POST.get("village")
    if chosen:
        return access_village(request.user, int(chosen)), villages
    return (villages[0] if villages else None), villages


def _rows(request: HttpRequest) -> tuple[Any, list[Any], list[Any], str, int]:
    village, villages = _village(request)
    group = request.GET.get("group", "")
    group = group if group in UNPAID_GROUPS else ""
    engine = actor_policy(request.user)
    rows = (
        unpaid_list(
            actor=request.user,
            village=village,
            benefit_year=engine.benefit_year,
            group=group or None,
        )
        if village is not None
        else []
    )
    return village, villages, rows, group, engine.benefit_year


@require_GET
@role_required(*DESK)
def unpaid(request: HttpRequest) -> HttpResponse:
    village, villages, rows, group, year = _rows(request)
    counts = {key: 0 for key in UNPAID_GROUPS}
    if not group:
        for row in rows:
            counts[row.group] += 1
    context = {
        "village": village,
        "villages": villages,
        "rows": [{"row": r, "age_group": age_group(r.person.birth_date)} for r in rows],
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
    village, _villages, rows, group, year = _rows(request)
    lines = [
        [
            i,
            r.person.name,
            r.person.masked_id_number,
            age_group(r.person.birth_date),
            r.group_label,
            "、".join(r.identities),
            r.person.phone,
            "是" if r.enrolled else "否",
            r.last_outcome,
        ]
        for i, r in enumerate(rows, start=1)
    ]
    name = village.name if village else ""
    data = table_workbook(
        title="未缴名单",
        headers=HEADERS,
        rows=lines,
        heading=f"{name} {year}年度城乡居民医保未缴费人员名单（{UNPAID_GROUPS.get(group, '全部')}）",
    )
    response = HttpResponse(data, content_type=XLSX_TYPE)
    filename = f"{name}{year}年度未缴名单.xlsx"
    from urllib.parse import quote

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
