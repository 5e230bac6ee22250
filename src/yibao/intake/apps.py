from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "yibao.intake"
    label = "intake"
    verbose_name = "数据接收"
