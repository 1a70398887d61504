"""Pages of the edges app."""

from django.urls import path

from edges import views

app_name = "edges"
urlpatterns = [
    path("edges/", views.board, name="board"),
]
