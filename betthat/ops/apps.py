from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: health and readiness, Prometheus metrics, the staff dashboard, and the
    mapping of database/Redis outages to 503 in the public error shape."""

    name = "betthat.ops"
    label = "ops"
    verbose_name = "Operations"
    default_auto_field = "django.db.models.BigAutoField"
