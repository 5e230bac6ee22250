"""政策: the policy as the ledger applies it (sources, tables, city rules, findings, decisions,
supplements), and the district office's page to load a supplement. Thin views over
``yibao.collection.services`` (``policy_engine``, ``policy_supplement_load``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from yibao.collection.selectors import campaign_policy, policy_supplements
from yibao.collection.services import policy_engine, policy_supplement_load
from yibao.core.errors import ApplicationError
from yibao.policy import list_policies
from yibao.policy.display import subsidy_rows
from yibao.policy.model import CITY_RULE_STATUS_NAMES

from ..roles import ADMIN, DISTRICT, OFFICE, role_required
from .common import error_page

SUPPLEMENT_MAX_BYTES = 200_000


@role_required(*OFFICE)
def policy_show(request: HttpRequest) -> HttpResponse:
    """The policy of the user's township (or the one chosen), with everything behind a quote."""
    chosen = request.GET.get("id", "").strip() or campaign_policy(actor=request.user) or ""
    policies = list_policies()
    if not chosen:
        chosen = policies[0].id
    try:
        engine = policy_engine(chosen)
    except ApplicationError as error:
        return error_page(request, error)
    data = engine.data
    city_rules = [
        {"rule": rule, "status": CITY_RULE_STATUS_NAMES[rule.status]} for rule in data.city_rules
    ]
    return render(
        request,
        "web/policy/show.html",
        {
            "policies": policies,
            "chosen": chosen,
            "policy": data,
            "rows": subsidy_rows(data),
            "city_rules": city_rules,
            "findings": engine.findings(),
            "supplements": policy_supplements(policy_id=chosen),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(DISTRICT, ADMIN)
def supplement_load(request: HttpRequest) -> HttpResponse:
    """载入政策补充文件: pasted or uploaded TOML, validated as a shipped policy file."""
    errors: dict[str, str] = {}
    text = request.POST.get("text", "")
    note = request.POST.get("note", "")
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is not None:
            if upload.size is not None and upload.size > SUPPLEMENT_MAX_BYTES:
                errors["text"] = "文件过大（不超过200KB）"
            else:
                try:
                    text = upload.read().decode("utf-8")
                except UnicodeDecodeError:
                    errors["text"] = "文件须为 UTF-8 编码的文本（TOML）"
        if not text.strip() and not errors:
            errors["text"] = "请粘贴补充文件内容或选择文件"
        if not errors:
            try:
                record = policy_supplement_load(
                    actor=request.user, text=text, note=note, name="补充文件"
                )
            except ApplicationError as error:
                errors["text"] = error.message
            else:
                messages.success(
                    request,
                    f"已载入{record.policy_id}的补充文件第{record.version}版：{record.document}",
                )
                return redirect(f"{reverse('web:policy')}?id={record.policy_id}")
    return render(
        request,
        "web/policy/supplement.html",
        {"text": text, "note": note, "errors": errors},
        status=400 if errors else 200,
    )
