from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yibao.core"
    label = "core"
    verbose_name = "基础"
