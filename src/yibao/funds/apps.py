from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "yibao.funds"
    label = "funds"
    verbose_name = "资金安全"
