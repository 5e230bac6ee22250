"""Fund safety pages of the township office: the cash limits (双限报解)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from yibao.core.errors import ApplicationError
from yibao.funds.selectors import actor_township, township_limits
from yibao.funds.services import cash_limit_set

from ..roles import OFFICE, role_required


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
