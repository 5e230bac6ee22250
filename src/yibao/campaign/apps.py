from django.apps import AppConfig


class CampaignConfig(AppConfig):
    name = "yibao.campaign"
    label = "campaign"
    verbose_name = "征缴任务与通报"
