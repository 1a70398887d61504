"""Pages of the edges app."""

from django.urls import path

from edges import views

app_name = "edges"
urlpatterns = [
    path("edges/", views.board, name="board"),
    path("edges/<str:edge_id>/", views.edge_detail, name="edge"),
    path("events/<int:event_id>/", views.event_detail, name="event"),
]
