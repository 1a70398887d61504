from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "betthat.core"
    label = "core"
    verbose_name = "Platform core"
