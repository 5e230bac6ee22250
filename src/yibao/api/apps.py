from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "yibao.api"
    label = "api"
    verbose_name = "接口"
