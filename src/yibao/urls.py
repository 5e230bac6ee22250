"""URL configuration: the pages at /, the REST API at /api/v1/, the admin for superusers."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", ("yibao.api.urls", "ninja", "api-v1")),  # REST API: src/yibao/api
    path("", include("yibao.web.urls")),  # pages: src/yibao/web
]
