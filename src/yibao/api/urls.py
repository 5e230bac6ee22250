"""URL patterns of ``/api/v1/``: the ninja API plus the docs page's local assets.

Mounted by the project's urls.py as ``path("api/v1/", ("yibao.api.urls", "ninja", "api-v1"))``.
"""

from __future__ import annotations

from django.urls import path, re_path

from .docs import docs_asset
from .errors import unknown_route
from .main import api

urlpatterns = [
    # Before ninja's own root view, which answers with Django's HTML 404 page.
    path("", unknown_route),
    *api.urls[0],
    path("docs/assets/<str:name>", docs_asset, name="docs-asset"),
    re_path(r"^.*$", unknown_route),
]
