"""Pages of the chat app."""

from django.urls import path

from chat import views

app_name = "chat"
urlpatterns = [
    path("chat/", views.lobby, name="index"),
    path("chat/event/<int:event_id>/", views.event_room, name="event"),
    path("chat/<slug:slug>/", views.room, name="room"),
]
