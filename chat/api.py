"""The chat's REST API: rooms, history, sending, reactions and reports (same services as
the socket, so the same rules and errors)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from betthat.core.errors import ApplicationError
from chat import cards, selectors, services
from chat.models import REACTIONS
from chat.serializers import MessageSerializer, RoomSerializer, message_frame, message_frames


class RoomListApi(APIView):
    """The rooms open for messages, with how many people are in each now."""

    @extend_schema(responses=RoomSerializer(many=True))
    def get(self, request):
        return Response(RoomSerializer(selectors.rooms_open(), many=True).data)


class MessageListApi(APIView):
    class HistorySerializer(serializers.Serializer):
        messages = MessageSerializer(many=True)
        before = serializers.CharField(allow_null=True, help_text="Cursor of the next, older page.")

    class ShareSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=["bet", "edge"])
        ref = serializers.CharField(max_length=40, help_text="A bet id of yours, or an edge id.")

    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(max_length=2000, trim_whitespace=False)
        client_id = serializers.RegexField(
            r"^[A-Za-z0-9_.:-]{1,64}$",
            required=False,
            help_text="Your id for this message: a retried send with the same id is stored once.",
        )
        share = serializers.DictField(required=False, help_text='{"kind": "bet"|"edge", "ref": id}')

    @extend_schema(
        parameters=[
            OpenApiParameter("before", str, description="Cursor from the previous page's `before`."),
            OpenApiParameter("limit", int, description="Messages per page (1-100, default 50)."),
        ],
        responses=HistorySerializer,
    )
    def get(self, request, slug: str):
        room = selectors.room_get(slug=slug)
        limit = request.query_params.get("limit")
        if limit is not None and not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= 100):
            raise ApplicationError("limit is 1 to 100.", code="validation_error", details={"field": "limit"})
        page = services.history_request(
            user=request.user,
            room=room,
            before=request.query_params.get("before") or None,
            limit=int(limit) if limit else None,
        )
        return Response(
            {
                "messages": message_frames(page.messages, room=room),
                "before": page.before,
            }
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: MessageSerializer, 200: MessageSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key", str, location=OpenApiParameter.HEADER, description="Same as client_id."
            )
        ],
    )
    def post(self, request, slug: str):
        room = selectors.room_get(slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        client_id = data.validated_data.get("client_id") or request.headers.get("Idempotency-Key") or None
        share = data.validated_data.get("share")
        attachment = (
            cards.card_for(user=request.user, kind=share.get("kind"), ref=share.get("ref")) if share else None
        )
        message, created = services.message_post(
            user=request.user,
            room=room,
            text=data.validated_data["text"],
            client_id=client_id,
            attachment=attachment,
        )
        return Response(
            message_frame(message, user=request.user, room=room)["message"], status=201 if created else 200
        )


class ReactionApi(APIView):
    class InputSerializer(serializers.Serializer):
        emoji = serializers.ChoiceField(choices=list(REACTIONS))

    class OutputSerializer(serializers.Serializer):
        message = MessageSerializer()
        reacted = serializers.BooleanField(help_text="Whether your reaction is now on.")

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, msg_id: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.message_get(msg_id=msg_id)
        message, on = services.message_react(
            user=request.user, message=message, emoji=data.validated_data["emoji"]
        )
        return Response({**message_frame(message), "reacted": on})


class ReportApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer):
        reported = serializers.BooleanField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, msg_id: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.message_get(msg_id=msg_id)
        services.message_report(user=request.user, message=message, reason=data.validated_data["reason"])
        return Response({"reported": True}, status=201)
