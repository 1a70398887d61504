from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = "Wallet"

    def ready(self) -> None:
        from django.core.exceptions import ImproperlyConfigured

        from wallet import checks

        # ASGI servers do not run system checks: refuse to start here as well (fail closed).
        errors = [e for e in checks.payments_configuration_check() if e.id in ("wallet.E001", "wallet.E002")]
        if errors:
            raise ImproperlyConfigured(f"{errors[0].msg} {errors[0].hint}")
