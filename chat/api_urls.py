"""REST endpoints of the chat app, mounted under /api/v1/."""

from django.urls import path

from chat import api

urlpatterns = [
    path("chat/rooms/", api.RoomListApi.as_view(), name="chat-rooms"),
    path("chat/rooms/<slug:slug>/messages/", api.MessageListApi.as_view(), name="chat-messages"),
    path("chat/messages/<str:msg_id>/reactions/", api.ReactionApi.as_view(), name="chat-reactions"),
    path("chat/messages/<str:msg_id>/report/", api.ReportApi.as_view(), name="chat-report"),
]
