"""URL patterns of ``/api/v1/``: the ninja API plus the docs page's local assets.

Mounted by the project's urls.py as ``path("api/v1/", ("yibao.api.urls", "ninja", "api-v1"))``.
"""

from __future__ import annotations

from django.urls import path

from .docs import docs_asset
from .main import api

urlpatterns = [
    *api.urls[0],
    path("docs/assets/<str:name>", docs_asset, name="docs-asset"),
]
