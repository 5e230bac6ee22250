"""审计日志: who changed what, per person, per user and per day, as readable diffs."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from yibao.core.access import access_person
from yibao.core.selectors import audit_diff, audit_trail, audit_users

from ..roles import AUDIT, role_required
from .common import paged

PAGE_SIZE = 50

ACTIONS = {
    "person.register": "登记参保人",
    "household.register": "按户登记",
    "identity_tag.add": "添加身份标识",
    "enrollment.create": "参保登记",
    "enrollment.change_tier": "变更档次",
    "enrollment.pay": "缴费（登记状态）",
    "enrollment.unpay": "冲正（登记状态）",
    "payment.record": "缴费",
    "payment.reverse": "冲正",
    "remittance.record": "现金解缴",
    "contact.record": "催缴联系",
}


@require_GET
@role_required(*AUDIT)
def audit(request: HttpRequest) -> HttpResponse:
    actor = request.user
    person = None
    if request.GET.get("person"):
        person = access_person(actor, int(request.GET["person"]))
    username = request.GET.get("user", "").strip() or None
    day = None
    if request.GET.get("day"):
        try:
            day = dt.date.fromisoformat(request.GET["day"])
        except ValueError:
            day = None
    page, query = paged(
        request, audit_trail(actor=actor, person=person, username=username, day=day), PAGE_SIZE
    )
    context = {
        "entries": [
            {"entry": e, "action": ACTIONS.get(e.action, e.action), "changes": audit_diff(e)}
            for e in page.object_list
        ],
        "page": page,
        "query": query,
        "person": person,
        "users": audit_users(actor=actor),
        "username": username or "",
        "day": day,
    }
    return render(request, "web/audit/audit.html", context)
