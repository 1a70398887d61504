"""Pages of the edges app."""

from django.urls import path

from edges import views

app_name = "edges"
urlpatterns = [
    path("edges/", views.board, name="board"),
    path("edges/alerts/", views.alerts, name="alerts"),
    path("edges/alerts/<int:alert_id>/toggle/", views.alert_toggle, name="alert-toggle"),
    path("edges/alerts/<int:alert_id>/delete/", views.alert_delete, name="alert-delete"),
    path("edges/<str:edge_id>/", views.edge_detail, name="edge"),
    path("events/<int:event_id>/", views.event_detail, name="event"),
]
