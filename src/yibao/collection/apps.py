from django.apps import AppConfig


class CollectionConfig(AppConfig):
    name = "yibao.collection"
    label = "collection"
    verbose_name = "参保征缴"
