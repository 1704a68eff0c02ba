from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "trading"

    def ready(self) -> None:
        # Keep Signalpost's tenant in step with the user each time they sign in (or up).
        from django.contrib.auth.signals import user_logged_in

        from trading.signalpost import sync_tenant_on_login

        user_logged_in.connect(sync_tenant_on_login, dispatch_uid="signalpost-tenant")
