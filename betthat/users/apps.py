from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "betthat.users"
    label = "users"
    verbose_name = "Users"
