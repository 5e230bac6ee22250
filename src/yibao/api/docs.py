"""The API's documentation page, served entirely from this server (the intranet has no CDN).

ninja's Swagger page loads its scripts from a CDN unless ninja is an installed app; this page
loads the copies shipped inside the ninja package through :func:`docs_asset`, and turns off
Swagger UI's online validator badge (``validatorUrl: null``), its only call home.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ninja
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.http import require_GET
from ninja.openapi.docs import DocsBase

ASSETS = Path(ninja.__file__).parent / "static" / "ninja"
ALLOWED = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "favicon.png": "image/png",
}

PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{css}">
<link rel="icon" type="image/png" href="{icon}">
</head>
<body data-csrf-token="{csrf}" data-api-csrf="true">
<script type="application/json" id="swagger-settings">{settings}</script>
<div id="swagger-ui"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""


def _asset(name: str) -> str:
    return reverse("api-v1:docs-asset", kwargs={"name": name})


class OfflineSwagger(DocsBase):
    """Swagger UI from local files; sends the CSRF token for session-authenticated tries."""

    def render_page(self, request: HttpRequest, api: Any, **kwargs: Any) -> HttpResponse:
        settings = {
            "url": self.get_openapi_url(api, kwargs),
            "layout": "BaseLayout",
            "deepLinking": True,
            "validatorUrl": None,
        }
        # "</" must not appear inside the script element.
        data = json.dumps(settings).replace("<", "\\u003c")
        html = PAGE.format(
            title=escape(api.title),
            css=_asset("swagger-ui.css"),
            icon=_asset("favicon.png"),
            csrf=escape(get_token(request)),
            settings=data,
            bundle=_asset("swagger-ui-bundle.js"),
            init=_asset("swagger-ui-init.js"),
        )
        return HttpResponse(html)


@require_GET
def docs_asset(request: HttpRequest, name: str) -> FileResponse:
    """One of the few Swagger UI files the docs page needs, from the ninja package."""
    if name not in ALLOWED:
        raise Http404(name)
    response = FileResponse((ASSETS / name).open("rb"), content_type=ALLOWED[name])
    response["Cache-Control"] = "max-age=86400"
    return response
