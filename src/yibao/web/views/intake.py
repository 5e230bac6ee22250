"""数据接收: roster upload with its report, departments' lists (upload → review → confirm),
death / employee / university lists, and the worklists of a village.

Thin views over ``yibao.transfer.imports``, ``yibao.intake.services`` / ``people`` /
``selectors`` / ``worklists``; scope and roles are checked there and by ``role_required``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yibao.collection.selectors import percent
from yibao.core import clock
from yibao.core.access import access_village
from yibao.core.errors import ApplicationError
from yibao.intake import people as person_lists
from yibao.intake.models import IdentityListEntry, PersonList
from yibao.intake.selectors import access_identity_list, identity_list_entries, identity_list_list
from yibao.intake.services import (
    DEPARTMENTS,
    ListHeader,
    identity_list_confirm,
    identity_list_discard,
    identity_list_stage,
)
from yibao.intake.uploads import uploaded_path
from yibao.intake.worklists import (
    WORKLIST_HEADERS,
    WORKLISTS,
    card_activation_rate,
    worklist,
    worklist_table,
)
from yibao.registry.selectors import village_list
from yibao.transfer.imports import persons_import
from yibao.transfer.workbook import XLSX_TYPE, table_workbook

from ..roles import DESK, OFFICE, role_required
from .common import actor_policy

CHANGE_ORDER = ["new", "changed", "ended", "unknown_person", "invalid", "unchanged"]


def _file_error(request: HttpRequest) -> str:
    upload = request.FILES.get("file")
    if upload is None:
        return "请选择要上传的文件（.xlsx、.xls 或 .csv）"
    return ""


# --- areas ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(*OFFICE)
def areas(request: HttpRequest) -> HttpResponse:
    """统计用区划代码: load the shipped codes, find a township, set it up from its code (a
    district office; a township office may look)."""
    from yibao.intake.areas import division_list, divisions_load, township_setup

    search = request.GET.get("q", "").strip()
    result = None
    errors: dict[str, str] = {}
    code = request.POST.get("code", "").strip()
    if request.method == "POST":
        try:
            if request.POST.get("action") == "load":
                loaded = divisions_load(actor=request.user)
                messages.success(request, loaded.summary())
                return redirect(reverse("web:areas"))
            result = township_setup(
                actor=request.user, code=code, add_missing="add_missing" in request.POST
            )
        except ApplicationError as error:
            errors["load" if request.POST.get("action") == "load" else "code"] = error.message
    found = list(division_list(search=search, level="township")[:30]) if search else []
    return render(
        request,
        "web/intake/areas.html",
        {"search": search, "found": found, "code": code, "errors": errors, "result": result},
    )


# --- roster ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(*OFFICE)
def roster(request: HttpRequest) -> HttpResponse:
    """花名册导入: households and persons from a clerk's sheet, with the row-by-row report."""
    villages = list(village_list(actor=request.user))
    form = {"village": request.POST.get("village", ""), "good": "good" in request.POST}
    errors: dict[str, str] = {}
    report = None
    if request.method == "POST":
        errors["file"] = _file_error(request)
        if not errors["file"]:
            village = (
                access_village(request.user, int(form["village"])) if form["village"] else None
            )
            try:
                with uploaded_path(request.FILES["file"]) as path:
                    report = persons_import(
                        actor=request.user,
                        path=path,
                        village=village,
                        import_good_rows=bool(form["good"]),
                    )
            except ApplicationError as error:
                errors["file"] = error.message
    return render(
        request,
        "web/intake/roster.html",
        {
            "villages": villages,
            "form": form,
            "errors": {k: v for k, v in errors.items() if v},
            "report": report,
        },
    )


# --- departments' identity lists ----------------------------------------------------------


def _list_form(request: HttpRequest) -> dict[str, str]:
    data = request.POST
    return {
        "department": data.get("department", "").strip(),
        "batch": data.get("batch", "").strip(),
        "list_date": data.get("list_date", "").strip(),
        "township": data.get("township", "").strip(),
    }


def _townships(actor: Any) -> list[Any]:
    """The townships of the actor's villages (a district office chooses one)."""
    from yibao.registry.models import Township

    ids = village_list(actor=actor).values_list("township_id", flat=True)
    return list(Township.objects.filter(pk__in=ids).order_by("name"))


@require_http_methods(["GET", "POST"])
@role_required(*OFFICE)
def identity_lists(request: HttpRequest) -> HttpResponse:
    """部门身份名单: the lists of the township and the upload form."""
    engine = actor_policy(request.user)
    townships = _townships(request.user)
    form = (
        _list_form(request)
        if request.method == "POST"
        else {
            "department": "",
            "batch": f"{clock.today():%Y-%m}",
            "list_date": clock.today().isoformat(),
            "township": "",
        }
    )
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not form["department"]:
            errors["department"] = "请填写认定部门"
        if not form["batch"]:
            errors["batch"] = "请填写批次，如 2022-11"
        try:
            list_date = dt.date.fromisoformat(form["list_date"])
        except ValueError:
            errors["list_date"] = "请填写名单日期，如 2022-12-05"
        if file_error := _file_error(request):
            errors["file"] = file_error
        township = next((t for t in townships if str(t.pk) == form["township"]), None)
        if township is None and len(townships) == 1:
            township = townships[0]
        if township is None:
            errors["township"] = "请选择名单所属的街道（镇）"
        if not errors:
            try:
                with uploaded_path(request.FILES["file"]) as path:
                    staged = identity_list_stage(
                        township=township,
                        actor=request.user,
                        path=path,
                        header=ListHeader(
                            department=form["department"],
                            batch=form["batch"],
                            list_date=list_date,
                            policy_id=engine.id,
                        ),
                    )
            except ApplicationError as error:
                errors["file" if error.code not in ("list_exists",) else "batch"] = error.message
            else:
                messages.success(request, f"已导入{staged}，请核对比对结果后确认")
                return redirect(reverse("web:identity_list", args=[staged.pk]))
    return render(
        request,
        "web/intake/identity_lists.html",
        {
            "lists": identity_list_list(actor=request.user)[:50],
            "departments": DEPARTMENTS,
            "townships": townships,
            "form": form,
            "errors": errors,
            "policy": engine,
        },
    )


@require_GET
@role_required(*OFFICE)
def identity_list(request: HttpRequest, list_id: int) -> HttpResponse:
    """The review of one list: counts, then the entries by change, flags and the
    multi-identity order; confirm or discard while it is staged."""
    staged = access_identity_list(request.user, list_id)
    change = request.GET.get("change", "")
    change = change if change in IdentityListEntry.Change.values else ""
    entries = list(identity_list_entries(actor=request.user, identity_list=staged, change=change))
    entries.sort(key=lambda e: (CHANGE_ORDER.index(e.change), e.row or 0))
    labels = dict(IdentityListEntry.Change.choices)
    counts = [(k, labels[k], staged.counts.get(k, 0)) for k in CHANGE_ORDER]
    return render(
        request,
        "web/intake/identity_list.html",
        {
            "list": staged,
            "entries": entries,
            "counts": counts,
            "change": change,
            "flagged": sum(1 for e in entries if e.flags),
        },
    )


@require_POST
@role_required(*OFFICE)
def identity_list_decide(request: HttpRequest, list_id: int) -> HttpResponse:
    staged = access_identity_list(request.user, list_id)
    if request.POST.get("decision") == "confirm":
        done = identity_list_confirm(actor=request.user, identity_list=staged)
        messages.success(request, f"已确认{done}：新增、变更的身份已生效，退出的身份已截止")
    else:
        done = identity_list_discard(
            actor=request.user, identity_list=staged, reason=request.POST.get("reason", "")
        )
        messages.success(request, f"已作废{done}，其内容不生效")
    return redirect(reverse("web:identity_list", args=[done.pk]))


# --- death, employee and university lists; anomalies ------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(*OFFICE)
def person_list_page(request: HttpRequest) -> HttpResponse:
    """死亡、职工医保、大学生名单 and the township's anomalies."""
    engine = actor_policy(request.user)
    year = engine.benefit_year
    form = {"kind": request.POST.get("kind", "death")}
    errors: dict[str, str] = {}
    imported = None
    if request.method == "POST":
        if form["kind"] not in PersonList.Kind.values:
            errors["kind"] = "请选择名单类型"
        if file_error := _file_error(request):
            errors["file"] = file_error
        if not errors:
            try:
                with uploaded_path(request.FILES["file"]) as path:
                    imported = person_lists.person_list_import(
                        actor=request.user, path=path, kind=form["kind"], benefit_year=year
                    )
            except ApplicationError as error:
                errors["file"] = error.message
    return render(
        request,
        "web/intake/person_lists.html",
        {
            "kinds": PersonList.Kind.choices,
            "form": form,
            "errors": errors,
            "imported": imported,
            "year": year,
            "anomalies": person_lists.anomaly_list(actor=request.user, benefit_year=year),
            "anomaly_kinds": person_lists.ANOMALY_KINDS,
            "patterns": person_lists.payer_patterns(actor=request.user, benefit_year=year),
        },
    )


# --- worklists ------------------------------------------------------------------------------


def _worklist(request: HttpRequest) -> tuple[Any, list[Any], str, list[Any], Any]:
    villages = list(village_list(actor=request.user))
    chosen = request.GET.get("village")
    village = access_village(request.user, int(chosen)) if chosen else None
    village = village or (villages[0] if villages else None)
    kind = request.GET.get("kind", "hardship")
    kind = kind if kind in WORKLISTS else "hardship"
    engine = actor_policy(request.user)
    rows = (
        worklist(actor=request.user, village=village, policy_id=engine.id, kind=kind)
        if village is not None
        else []
    )
    return village, villages, kind, rows, engine


@require_GET
@role_required(*DESK)
def worklists(request: HttpRequest) -> HttpResponse:
    """工作清单: one village's list of who to reach next (a collector sees their villages)."""
    village, villages, kind, rows, engine = _worklist(request)
    activation = None
    if kind == "ecard" and village is not None:
        activated, alive = card_activation_rate(actor=request.user, village=village)
        activation = {"activated": activated, "alive": alive, "rate": percent(activated, alive)}
    return render(
        request,
        "web/intake/worklists.html",
        {
            "activation": activation,
            "village": village,
            "villages": villages,
            "kind": kind,
            "kinds": WORKLISTS,
            "rows": rows,
            "year": engine.benefit_year,
        },
    )


@require_GET
@role_required(*DESK)
def worklist_export(request: HttpRequest) -> HttpResponse:
    village, _villages, kind, rows, engine = _worklist(request)
    name = f"{village.name if village else ''}{WORKLISTS[kind]}"
    data = table_workbook(
        title=WORKLISTS[kind],
        headers=WORKLIST_HEADERS,
        rows=worklist_table(rows),
        heading=f"{name}（{engine.benefit_year}年度，{len(rows)}人）",
    )
    response = HttpResponse(data, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name + '.xlsx')}"
    return response
