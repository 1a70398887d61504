from django.urls import path

import betting.routing
import chat.routing
import edges.routing
import social.routing
import wallet.routing
from betthat.core.consumers import NotificationConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationConsumer.as_asgi()),
    *edges.routing.websocket_urlpatterns,
    *chat.routing.websocket_urlpatterns,
    *wallet.routing.websocket_urlpatterns,
    *betting.routing.websocket_urlpatterns,
    *social.routing.websocket_urlpatterns,
]
