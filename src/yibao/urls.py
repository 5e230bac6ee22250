"""URL configuration; the web and API layers add their routes here."""

from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", ("yibao.api.urls", "ninja", "api-v1")),  # REST API: src/yibao/api
]
