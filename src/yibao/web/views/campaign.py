"""The township's campaign pages: bulletins (通报), targets and reductions (核减), assessment,
subsidy accounts. Thin views over ``yibao.campaign``'s services and selectors."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from yibao.campaign import exports, selectors, services
from yibao.campaign.exports import (
    bulletin_workbook,
    subsidy_workbook,
    workbook_bytes,
)
from yibao.core import clock
from yibao.core.access import access_person
from yibao.core.errors import ApplicationError
from yibao.policy.reporting import bulletin_dates
from yibao.registry.idcrypto import id_digest
from yibao.registry.models import Person
from yibao.transfer.workbook import XLSX_TYPE

from ..roles import AUDIT, OFFICE, role_required
from .common import actor_policy

READ = tuple(sorted(set(OFFICE) | set(AUDIT)))
MAX_UPLOAD = 5 * 1024 * 1024


def _day(text: str | None, default: dt.date) -> tuple[dt.date, str]:
    """The date in ``text`` (YYYY-MM-DD), or ``default`` with the reason it was not usable."""
    if not text:
        return default, ""
    try:
        return dt.date.fromisoformat(text.strip()), ""
    except ValueError:
        return default, f"日期“{text}”应为 年-月-日（如 2022-12-05），已改为显示{default}"


def _download(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


# --- bulletins ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(*READ)
def bulletins(request: HttpRequest) -> HttpResponse:
    """The bulletin of a day (as a printable page), the schedule, and the issued ones."""
    actor = request.user
    engine = actor_policy(actor)
    today = clock.today()
    if request.method == "POST":
        on, problem = _day(request.POST.get("on"), today)
        if problem:
            messages.error(request, problem)
        else:
            bulletin, created = services.bulletin_issue(actor=actor, policy_id=engine.id, on=on)
            messages.success(
                request, f"{on}的通报已发布" if created else f"{on}的通报此前已发布，未重复发布"
            )
        return redirect(f"{reverse('web:bulletins')}?on={on.isoformat()}")
    on, problem = _day(request.GET.get("on"), today)
    if on > today:
        on, problem = today, f"{on}尚未结束，已改为显示{today}"
    figures = selectors.bulletin_figures(actor=actor, policy_id=engine.id, on=on)
    issued = list(selectors.bulletin_list(actor=actor, policy_id=engine.id)[:60])
    schedule = [d for d in bulletin_dates(engine.data) if d <= today]
    issued_days = {b.on for b in issued}
    context = {
        "policy": engine,
        "figures": figures,
        "rows": sorted(figures.rows, key=lambda r: r.progress.rank),
        "on": on,
        "problem": problem,
        "issued": issued,
        "is_issued": on in issued_days,
        "due": [d for d in schedule if d not in issued_days][-10:],
        "township": issued[0].township.name if issued else "",
    }
    return render(request, "web/campaign/bulletin.html", context)


@require_GET
@role_required(*READ)
def bulletin_export(request: HttpRequest) -> HttpResponse:
    actor = request.user
    engine = actor_policy(actor)
    on, _ = _day(request.GET.get("on"), clock.today())
    figures = selectors.bulletin_figures(actor=actor, policy_id=engine.id, on=on)
    data = workbook_bytes(bulletin_workbook(figures))
    return _download(data, f"征缴进度通报{on}.xlsx")


@require_GET
@role_required(*READ)
def bulletin_pdf(request: HttpRequest) -> HttpResponse:
    """The bulletin of a day as a PDF (A4 landscape, Chinese fonts embedded)."""
    actor = request.user
    engine = actor_policy(actor)
    on, _ = _day(request.GET.get("on"), clock.today())
    figures = selectors.bulletin_figures(actor=actor, policy_id=engine.id, on=on)
    township = services.policy_township(engine.id).name
    response = HttpResponse(
        exports.bulletin_pdf(figures, township=township), content_type="application/pdf"
    )
    filename = quote(f"{township}征缴进度通报{on}.pdf")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return response


# --- targets and reductions ---------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(*OFFICE)
def targets(request: HttpRequest) -> HttpResponse:
    """Upload a target table (then review its findings), and the tables so far."""
    actor = request.user
    engine = actor_policy(actor)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = "请选择任务表文件（.xlsx、.xls 或 .csv）"
        elif upload.size > MAX_UPLOAD:
            error = "文件超过5MB，请只保留任务表一页"
        else:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / Path(upload.name or "任务表.xlsx").name
                with path.open("wb") as handle:
                    for chunk in upload.chunks():
                        handle.write(chunk)
                try:
                    table = services.target_table_import(
                        actor=actor, policy_id=engine.id, path=path
                    )
                except ApplicationError as refused:
                    error = refused.message
                else:
                    return redirect("web:target_table", table_id=table.pk)
    context = {
        "policy": engine,
        "tables": selectors.target_table_list(actor=actor, policy_id=engine.id)[:30],
        "error": error,
    }
    return render(request, "web/campaign/targets.html", context, status=400 if error else 200)


@require_http_methods(["GET", "POST"])
@role_required(*OFFICE)
def target_table(request: HttpRequest, table_id: int) -> HttpResponse:
    """One table as imported, with the policy engine's findings; accept or set aside."""
    actor = request.user
    table = selectors.target_table_list(actor=actor).filter(pk=table_id).first()
    if table is None:
        raise ApplicationError("not_found", "找不到该任务表")
    if request.method == "POST":
        if request.POST.get("action") == "accept":
            services.target_table_accept(actor=actor, table=table)
            messages.success(request, "任务表已采用：各村目标任务数按原表为准")
        elif request.POST.get("action") == "discard":
            services.target_table_discard(actor=actor, table=table)
            messages.success(request, "已放弃该任务表（保留备查）")
        return redirect("web:target_table", table_id=table.pk)
    columns = [label for _, label in table.columns]
    keys = [key for key, _ in table.columns]
    rows = [
        (row.seq, row.village.name, [row.values.get(k) for k in keys])
        for row in table.rows.select_related("village").order_by("seq", "id")
    ]
    context = {
        "table": table,
        "columns": columns,
        "rows": rows,
        "totals": [table.totals.get(k) for k in keys],
        "errors": [f for f in table.findings if f["level"] == "error"],
        "warnings": [f for f in table.findings if f["level"] == "warning"],
    }
    return render(request, "web/campaign/target_table.html", context)


REDUCTION_FIELDS = (
    "id_number",
    "scope",
    "insured_where",
    "evidence",
    "coverage_from",
    "coverage_to",
)


@require_http_methods(["GET", "POST"])
@role_required(*OFFICE)
def reductions(request: HttpRequest) -> HttpResponse:
    """Target reductions (核减): record one with its evidence, revoke one with a reason."""
    actor = request.user
    engine = actor_policy(actor)
    form: dict[str, str] = {name: "" for name in REDUCTION_FIELDS}
    errors: dict[str, str] = {}
    if request.method == "POST" and request.POST.get("action") == "revoke":
        reduction = selectors.target_reduction_get(
            actor=actor, reduction_id=int(request.POST.get("reduction_id") or 0)
        )
        try:
            services.target_reduction_revoke(
                actor=actor, reduction=reduction, reason=request.POST.get("reason", "")
            )
        except ApplicationError as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, "已撤销核减")
        return redirect("web:reductions")
    if request.method == "POST":
        form = {name: request.POST.get(name, "").strip() for name in REDUCTION_FIELDS}
        errors = _record_reduction(actor, engine.id, form)
        if not errors:
            messages.success(request, "已登记核减")
            return redirect("web:reductions")
    context = {
        "policy": engine,
        "form": form,
        "errors": errors,
        "reductions": selectors.target_reduction_list(
            actor=actor, benefit_year=engine.benefit_year
        )[:200],
    }
    return render(request, "web/campaign/reductions.html", context, status=400 if errors else 200)


def _record_reduction(actor: Any, policy_id: str, form: dict[str, str]) -> dict[str, str]:
    """Record the reduction; the refusals by the field they concern (nothing is lost)."""
    dates: dict[str, dt.date | None] = {}
    errors: dict[str, str] = {}
    for name in ("coverage_from", "coverage_to"):
        try:
            dates[name] = dt.date.fromisoformat(form[name]) if form[name] else None
        except ValueError:
            errors[name] = "日期应为 年-月-日"
    person = Person.objects.filter(id_digest=id_digest(form["id_number"])).only("pk").first()
    if person is None:
        errors["id_number"] = "找不到该证件号码的参保人，或其不在您的范围内"
    if errors:
        return errors
    try:
        services.target_reduction_record(
            actor=actor,
            person=access_person(actor, person.pk),
            policy_id=policy_id,
            scope=form["scope"],
            insured_where=form["insured_where"],
            evidence=form["evidence"],
            coverage_from=dates["coverage_from"],
            coverage_to=dates["coverage_to"],
        )
    except ApplicationError as refused:
        field = {
            "evidence_required": "evidence",
            "invalid_scope": "scope",
            "invalid_period": "coverage_to",
            "already_reduced": "id_number",
            "not_found": "id_number",
        }.get(refused.code, "id_number")
        missing = refused.params.get("missing") or []
        if refused.code == "evidence_required" and any("参保期" in m for m in missing):
            errors["coverage_from"] = "市外参保须填写参保期起止"
        if refused.code == "evidence_required" and any("参保地" in m for m in missing):
            errors["insured_where"] = "请填写参保地或单位"
        if refused.code != "evidence_required" or any("佐证" in m for m in missing):
            errors[field] = refused.message
    return errors


# --- assessment and subsidy accounts ------------------------------------------------------


@require_GET
@role_required(*READ)
def assessment(request: HttpRequest) -> HttpResponse:
    actor = request.user
    engine = actor_policy(actor)
    on, problem = _day(request.GET.get("on"), clock.today())
    context = {
        "policy": engine,
        "on": on,
        "problem": problem,
        "rows": selectors.assessment_list(actor=actor, policy_id=engine.id, on=on),
        "rule": engine.data.assessment,
    }
    return render(request, "web/campaign/assessment.html", context)


@require_GET
@role_required(*READ)
def subsidy(request: HttpRequest) -> HttpResponse:
    actor = request.user
    engine = actor_policy(actor)
    on, problem = _day(request.GET.get("on"), clock.today())
    lines, totals = selectors.subsidy_accounts(actor=actor, policy_id=engine.id, on=on)
    if request.GET.get("format") == "xlsx":
        book = subsidy_workbook(
            lines,
            totals,
            title=f"{engine.benefit_year}年度城乡居民医保资助参保资金（按认定部门）",
            subtitle=f"{engine.name}；截至{on}日终",
        )
        return _download(workbook_bytes(book), f"资助参保资金{on}.xlsx")
    context = {
        "policy": engine,
        "on": on,
        "problem": problem,
        "lines": lines,
        "totals": totals,
        "sum_people": sum(t.people for t in totals),
        "sum_subsidy": sum((t.subsidy for t in totals), 0),
        "sum_borne": sum((t.surcharge_borne for t in totals), 0),
    }
    return render(request, "web/campaign/subsidy.html", context)
