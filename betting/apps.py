from django.apps import AppConfig


class BettingConfig(AppConfig):
    name = "betting"
    verbose_name = "Betting"

    def ready(self) -> None:
        from betting import handlers  # noqa: F401  (registers the outbox handlers)
