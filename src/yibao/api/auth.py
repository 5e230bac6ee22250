"""The two ways into the API: a bearer token, or the Django session of the web app.

Session writes need the CSRF token (``X-CSRFToken``) like any form of the web app; bearer
requests carry no cookie and need none.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from yibao.core.access import require_write_access

from .tokens import api_token_user

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _writer_check(request: HttpRequest, user: Any | None) -> Any | None:
    """An auditor's token or session reads; any other method is refused (403 read_only)."""
    if user is not None and request.method not in SAFE_METHODS:
        require_write_access(user)
    return user


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>`` issued by :func:`yibao.api.tokens.api_token_issue`."""

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        return _writer_check(request, api_token_user(token.strip()))


class SessionCsrf(APIKeyCookie):
    """The logged-in web session; unsafe methods must pass Django's CSRF check."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # Only a logged-in session is checked for CSRF, so an anonymous request is told it
        # is not logged in (401) rather than that its CSRF token is missing.
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if check_csrf(request):
            raise HttpError(403, "csrf_failed")
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any | None:
        if key is None:
            return None
        return _writer_check(request, request.user)
