"""What every view needs: the actor's campaign, and ApplicationError as a page."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from yibao.api.errors import status_for
from yibao.collection.selectors import campaign_policy
from yibao.collection.services import policy_engine
from yibao.core.errors import ApplicationError
from yibao.policy import PolicyEngine


def actor_policy(actor: Any) -> PolicyEngine:
    """The policy of the actor's township on the campaign date (``no_policy`` if none)."""
    policy_id = campaign_policy(actor=actor)
    if policy_id is None:
        raise ApplicationError(
            "no_policy",
            "您负责的村（社区）没有可用的征缴政策文件（或账号尚未分配村、街道），请联系区医保局",
        )
    return policy_engine(policy_id)


def error_page(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    """A refusal as a page: the Chinese message in the red box, the HTTP status by its code."""
    if error.code in ("out_of_scope", "not_found"):
        # Outside the actor's villages answers exactly as absent: no name, no village.
        return render(
            request,
            "web/error.html",
            {"title": "找不到", "message": "找不到该记录，或它不在您负责的村（社区）范围内。"},
            status=404,
        )
    status = status_for(error.code)
    title = {403: "无权办理", 404: "找不到", 409: "不能重复办理"}.get(status, "不能办理")
    return render(
        request, "web/error.html", {"title": title, "message": error.message}, status=status
    )


def paged(request: HttpRequest, items: Any, size: int) -> tuple[Page, str]:
    """Page ``?page=`` of ``items`` (a list or a query set, counted once) and the request's
    other query parameters, for ``web/_pager.html``'s 上一页 / 下一页 links."""
    page = Paginator(items, size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
