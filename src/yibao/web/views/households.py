"""按户登记: a first-time household with its register book, checked as the clerk types."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from yibao.core import clock
from yibao.core.access import access_village
from yibao.core.errors import ApplicationError
from yibao.registry.idnumbers import normalise, parse_id_number
from yibao.registry.models import Person
from yibao.registry.selectors import village_list
from yibao.registry.services import PersonData, household_register

from ..roles import OFFICE, role_required

MEMBER_ROWS = 4
MAX_MEMBERS = 15
RELATIONS = ["配偶", "子", "女", "父亲", "母亲", "孙子", "孙女", "兄弟", "姐妹", "其他"]
FIELDS = ("name", "id_number", "phone", "relation")


def _rows(request: HttpRequest) -> list[dict[str, str]]:
    """The member rows as typed (head first); nothing typed is lost on a refused submit."""
    data = request.POST
    count = min(int(data.get("rows", MEMBER_ROWS) or MEMBER_ROWS), MAX_MEMBERS)
    if "add_row" in data:
        count = min(count + 1, MAX_MEMBERS)
    rows = [{f: data.get(f"head_{f}", "").strip() for f in FIELDS}]
    for i in range(count):
        rows.append({f: data.get(f"m{i}_{f}", "").strip() for f in FIELDS})
    return rows


@require_http_methods(["GET", "POST"])
@role_required(*OFFICE)
def household_new(request: HttpRequest) -> HttpResponse:
    villages = list(village_list(actor=request.user))
    errors: dict[str, str] = {}
    if request.method == "POST":
        rows = _rows(request)
        if "add_row" not in request.POST:
            household = _register(request, rows, errors)
            if household is not None:
                head = household.head
                messages.success(
                    request,
                    f"已登记{head.name}户，共{household.members.count()}人；可以为他们办理缴费",
                )
                return redirect(reverse("web:person", args=[head.pk]))
    else:
        rows = [{f: "" for f in FIELDS} for _ in range(MEMBER_ROWS + 1)]
    context = {
        "villages": villages,
        "head": rows[0],
        "members": [
            {**row, "prefix": f"m{i}", "error": errors.get(f"m{i}", "")}
            for i, row in enumerate(rows[1:])
        ],
        "rows": len(rows) - 1,
        "relations": RELATIONS,
        "errors": errors,
        "form": request.POST,
    }
    return render(request, "web/households/new.html", context, status=400 if errors else 200)


def _register(request: HttpRequest, rows: list[dict[str, str]], errors: dict[str, str]) -> Any:
    actor = request.user
    try:
        village = access_village(actor, int(request.POST.get("village") or 0))
    except (ValueError, ApplicationError):
        errors["village"] = "请选择户籍所在村（社区）"
        return None
    head, *others = rows
    if not head["name"] or not head["id_number"]:
        errors["head"] = "户主的姓名和证件号码必须填写"
        return None
    members = [
        PersonData(
            id_number=r["id_number"],
            name=r["name"],
            phone=r["phone"],
            relation_to_head=r["relation"] or "其他",
        )
        for r in others
        if r["name"] or r["id_number"]
    ]
    try:
        return household_register(
            actor=actor,
            village=village,
            head=PersonData(
                id_number=head["id_number"],
                name=head["name"],
                phone=head["phone"],
                relation_to_head="户主",
            ),
            members=members,
            number=request.POST.get("number", "").strip() or None,
            address=request.POST.get("address", "").strip(),
        )
    except ApplicationError as error:
        errors[_field_of(error, rows)] = error.message
        return None


def _field_of(error: ApplicationError, rows: list[dict[str, str]]) -> str:
    """Which row an error belongs to, so it is shown beside that row."""
    masked = error.params.get("id_number") or error.params.get("person") or ""
    for index, row in enumerate(rows):
        number = normalise(row["id_number"])
        if number and (number[-4:] in str(masked)) and row["name"] in str(masked) + row["name"]:
            return "head" if index == 0 else f"m{index - 1}"
    return "general"


@require_GET
@role_required(*OFFICE)
def check_id(request: HttpRequest) -> HttpResponse:
    """As the clerk types: the ID number's checksum, birth date and sex, or what is wrong."""
    typed = next((v for k, v in request.GET.items() if k.endswith("id_number")), "")
    number = normalise(typed)[:20]
    context: dict[str, Any] = {"number": number}
    if number:
        try:
            parsed = parse_id_number(Person.IdType.RESIDENT_ID, number, today=clock.today())
            context["parsed"] = parsed
            context["sex"] = dict(Person.Sex.choices).get(parsed.sex or "", "")
        except ApplicationError as error:
            context["error"] = error.params.get("reason") or error.message
    return render(request, "web/households/_id_check.html", context)
