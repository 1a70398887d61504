from django.apps import AppConfig


class EdgesConfig(AppConfig):
    name = "edges"
    verbose_name = "Odds and edges"
