"""The API's settings: Django REST framework and drf-spectacular (the OpenAPI schema)."""

from __future__ import annotations

from typing import Any


def rest_framework_settings(
    *, debug: bool, num_proxies: int, throttle_rates: dict[str, str]
) -> dict[str, Any]:
    """REST_FRAMEWORK: token or session authentication, active users only, bounded parsers,
    the one error shape (outages answer 503), throttles per client address behind
    `num_proxies` proxies of ours."""
    return {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "betthat.core.authentication.BearerOrTokenAuthentication",
            "rest_framework.authentication.SessionAuthentication",
        ],
        "DEFAULT_PERMISSION_CLASSES": ["betthat.core.authentication.IsActiveUser"],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
        + (["rest_framework.renderers.BrowsableAPIRenderer"] if debug else []),
        "DEFAULT_SCHEMA_CLASS": "betthat.core.schema.AutoSchema",
        "EXCEPTION_HANDLER": "betthat.ops.api.exception_handler",  # outages -> 503, else core's
        "DEFAULT_PARSER_CLASSES": [
            "betthat.core.parsers.BoundedJSONParser",
            "betthat.core.parsers.BoundedFormParser",
            "betthat.core.parsers.BoundedMultiPartParser",
        ],
        "NUM_PROXIES": num_proxies,
        "DEFAULT_THROTTLE_CLASSES": [
            "betthat.core.throttling.AnonRateThrottle",
            "betthat.core.throttling.UserRateThrottle",
        ],
        "DEFAULT_THROTTLE_RATES": throttle_rates,
        "COERCE_DECIMAL_TO_STRING": True,
    }


SPECTACULAR: dict[str, Any] = {
    "TITLE": "Bet-That API",
    "DESCRIPTION": "Edges, one wallet, bets and a verified record. Errors: "
    '{"error": {"code", "message", "details"}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "EventStatusEnum": "edges.models.Event.Status",
        "EdgeStatusEnum": "edges.models.Edge.Status",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
