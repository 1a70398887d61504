from allauth.account.adapter import DefaultAccountAdapter

from betthat.users import services


class AccountAdapter(DefaultAccountAdapter):
    def confirm_email(self, request, email_address):
        super().confirm_email(request, email_address)
        services.user_verify_email(user=email_address.user)

    def is_open_for_signup(self, request):
        return True
