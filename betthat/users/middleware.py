import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
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


class SessionIdleTimeoutMiddleware:
    """A signed-in browser idle for longer than settings.SESSION_IDLE_TIMEOUT is signed out.

    The time of the last request is kept in the session, rewritten at most once a minute so
    that a busy page does not write its session on every request."""

    KEY = "last_activity"
    RESOLUTION_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and session is not None and user.is_authenticated and session.session_key:
            now = int(time.time())
            last = session.get(self.KEY)
            timeout = int(settings.SESSION_IDLE_TIMEOUT.total_seconds())
            if isinstance(last, int) and timeout > 0 and now - last > timeout:
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                messages.info(request, "You were signed out after a while without activity.")
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if not isinstance(last, int) or now - last >= self.RESOLUTION_SECONDS:
                session[self.KEY] = now
        return self.get_response(request)


class UserTimeZoneMiddleware:
    """Every page renders times in the viewer's zone (`timezones.zone_name_for_request`: the
    signed-in user's `timezone`, else the browser's zone from the `bt_tz` cookie, else UTC),
    activated for the request, so Django's `date`/`time` filters, `timezone.localtime()` and
    `{% when %}` all use it; `request.time_zone_name` holds the name for the templates.

    Not under /api/: DRF writes a datetime in the active zone, and the API speaks UTC to every
    client (`...Z`), whoever is signed in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from zoneinfo import ZoneInfo

        from django.utils import timezone

        from betthat.users.timezones import UTC_NAME, zone_name_for_request

        name = UTC_NAME if request.path.startswith("/api/") else zone_name_for_request(request)
        request.time_zone_name = name
        if name == UTC_NAME:
            timezone.deactivate()
        else:
            timezone.activate(ZoneInfo(name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
