"""REST endpoints of the edges app, mounted under /api/v1/."""

from django.urls import path

from edges import api, api_alerts

urlpatterns: list = [
    path("sportsbooks/", api.SportsbookListApi.as_view(), name="sportsbook-list"),
    path("events/", api.EventListApi.as_view(), name="event-list"),
    path("events/<int:event_id>/", api.EventDetailApi.as_view(), name="event-detail"),
    path("events/<int:event_id>/history/", api.EventHistoryApi.as_view(), name="event-history"),
    path("edge-alerts/", api_alerts.EdgeAlertListApi.as_view(), name="edge-alert-list"),
    path("edge-alerts/<int:alert_id>/", api_alerts.EdgeAlertDetailApi.as_view(), name="edge-alert-detail"),
    path("edges/", api.EdgeListApi.as_view(), name="edge-list"),
    path("edges/<str:edge_id>/", api.EdgeDetailApi.as_view(), name="edge-detail"),
]
