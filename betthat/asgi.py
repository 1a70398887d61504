"""HTTP and websockets on one ASGI server.

Websockets go to Channels (session auth, allowed Origin only). HTTP goes to Django's WSGI
handler running in a fixed pool of threads (a2wsgi) rather than Django's ASGI handler:
measured here on 2 cores, a trivial view served 671 req/s through the ASGI handler (with a
connection pool; without one, per-request threads exhaust PostgreSQL's connections) and
1,945 req/s through the thread pool, the same as gunicorn. Every view is synchronous, so
nothing is lost, and the pooled threads keep persistent database connections.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "betthat.settings")
django_wsgi_app = get_wsgi_application()

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from betthat.core.gc import freeze_startup_objects  # noqa: E402
from betthat.ops.asgi import WebsocketMetricsMiddleware  # noqa: E402
from betthat.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": WSGIMiddleware(django_wsgi_app, workers=settings.HTTP_THREADS),
        "websocket": WebsocketMetricsMiddleware(
            AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# Every URL module imported now (Django would on the first request), then the start-up
# objects frozen out of the collector's full scans (betthat/core/gc.py).
get_resolver().url_patterns  # noqa: B018
freeze_startup_objects()
