from allauth.account.auth_backends import AuthenticationBackend


class StatusAwareBackend(AuthenticationBackend):
    """Email login (allauth) that refuses suspended and deleted users."""

    def user_can_authenticate(self, user):
        if getattr(user, "deleted_at", None) is not None:
            return False
        if getattr(user, "status", None) == "suspended":
            return False
        return super().user_can_authenticate(user)
