from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "betthat.users"
    label = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        from betthat.users import checks, handlers, receivers  # noqa: F401  (registers them)
