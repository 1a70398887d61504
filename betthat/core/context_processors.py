from typing import Any

from django.conf import settings
from django.http import HttpRequest

from betthat.core import formatting


def site(request: HttpRequest) -> dict[str, Any]:
    """Site-wide values, and the viewer's display preferences every page and script reads."""
    user = getattr(request, "user", None)
    return {
        "SITE_NAME": "Bet-That",
        "DEBUG": settings.DEBUG,
        "odds_format": formatting.odds_format_for(user),
        # the middleware's choice (user's zone, else the browser's cookie, else UTC)
        "user_timezone": getattr(request, "time_zone_name", None) or formatting.timezone_name_for(user),
        "display_names": formatting.names_registry(),
    }
