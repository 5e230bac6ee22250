"""Sign-in and sign-out; the home page sends each role to its first screen."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from ..roles import ADMIN, AUDITOR, COLLECTOR, DISTRICT, TOWNSHIP, actor_role


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码不正确。连续输错10次，账号将被锁定1小时。",
        "inactive": "该账号已停用，请联系街道社保所。",
    }


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


logout_view = auth_views.LogoutView.as_view()


@login_required
def menu(request: HttpRequest) -> HttpResponse:
    """更多: every page the role may open, by section (the phone's bar shows four)."""
    from django.shortcuts import render

    from ..context import web_context
    from ..nav import nav_sections

    links = web_context(request).get("nav", [])
    return render(request, "web/menu.html", {"sections": nav_sections(links)})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    role = actor_role(request.user)
    if role in (TOWNSHIP, DISTRICT, ADMIN):
        return redirect("web:dashboard")
    if role == COLLECTOR:
        return redirect("web:desk")
    if role == AUDITOR:
        return redirect("web:audit")
    from django.shortcuts import render

    return render(
        request,
        "web/error.html",
        {
            "title": "账号未分配角色",
            "message": "您的账号还没有分配角色和村（社区），请联系街道社保所。",
        },
        status=403,
    )
