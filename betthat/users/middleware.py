from django.contrib.auth import logout
from django.shortcuts import redirect


class ActiveUserMiddleware:
    """A user suspended or deleted while logged in is logged out on the next request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and (user.is_suspended or user.deleted_at is not None or not user.is_active)
        ):
            logout(request)
            if not request.path.startswith("/api/"):
                return redirect("/accounts/inactive/")
        return self.get_response(request)
