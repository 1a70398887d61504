from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied

from betthat.core.client_ip import client_ip
from betthat.users import services


class AccountAdapter(DefaultAccountAdapter):
    def confirm_email(self, request, email_address):
        super().confirm_email(request, email_address)
        services.user_verify_email(user=email_address.user)

    def is_open_for_signup(self, request):
        return True

    def get_client_ip(self, request):
        """The one client-address function (rate limits of login, signup, token attempts)."""
        address = client_ip(request)
        if not address:
            raise PermissionDenied("Unable to determine client IP address")
        return address
