from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CollectionConfig(AppConfig):
    name = "yibao.collection"
    label = "collection"
    verbose_name = "参保征缴"

    def ready(self) -> None:
        from .hardship import hardship_tags_heal
        from .village_people import village_people_heal

        post_migrate.connect(hardship_tags_heal, sender=self)
        post_migrate.connect(village_people_heal, sender=self)
