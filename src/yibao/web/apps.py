from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "yibao.web"
    label = "web"
    verbose_name = "网页"
