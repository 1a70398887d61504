"""REST endpoints of edge alerts (/api/v1/edge-alerts/): the requesting user's own alerts."""

from __future__ import annotations

import math
from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from betthat.core.errors import ApplicationError, NotFound
from betthat.users.http import current_user
from edges import alerts, selectors
from edges.models import Edge, EdgeAlert, Sport, Sportsbook

SLUG = r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$"


def _validation_error(errors: Any) -> ApplicationError:
    return ApplicationError("The request is not valid.", code="validation_error", status=400, details=errors)


class StrictBoolean(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class EdgeAlertInputSerializer(serializers.Serializer):
    """An alert's filter: every field optional; empty matches anything. `min_ev` is a
    fraction (0.03 = 3 %), as the edges API gives EV."""

    name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    sport_key = serializers.RegexField(SLUG, max_length=60, required=False, allow_blank=True)
    kind = serializers.ChoiceField(
        choices=[("", "Any"), *Edge.Kind.choices], required=False, allow_blank=True
    )
    min_ev = serializers.FloatField(min_value=-1, max_value=10, required=False, allow_null=True)
    sportsbook_key = serializers.RegexField(SLUG, max_length=40, required=False, allow_blank=True)
    send_email = StrictBoolean(required=False)
    is_active = StrictBoolean(required=False)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        unknown = set(data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(dict.fromkeys(sorted(map(str, unknown)), "Unknown field."))
        return super().to_internal_value(data)

    def validate_min_ev(self, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise serializers.ValidationError("A number between -1 and 10 (a fraction: 0.03 = 3 %).")
        if isinstance(self.initial_data, dict) and isinstance(self.initial_data.get("min_ev"), bool):
            raise serializers.ValidationError("A number, not true or false.")
        return value

    def validate_sport_key(self, value: str) -> str:
        if value and not Sport.objects.filter(key=value).exists():
            raise serializers.ValidationError(f"No sport {value!r}.")
        return value

    def validate_sportsbook_key(self, value: str) -> str:
        if value and not Sportsbook.objects.filter(key=value).exists():
            raise serializers.ValidationError(f"No sportsbook {value!r}.")
        return value


class EdgeAlertOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = EdgeAlert
        fields = [
            "id", "name", "sport_key", "kind", "min_ev", "sportsbook_key", "send_email", "is_active",
            "created_at", "updated_at",
        ]  # fmt: skip


def _valid(request: Any, *, partial: bool) -> dict[str, Any]:
    serializer = EdgeAlertInputSerializer(data=request.data, partial=partial)
    if not serializer.is_valid():
        raise _validation_error(serializer.errors)
    return dict(serializer.validated_data)


class EdgeAlertListApi(APIView):
    @extend_schema(
        operation_id="v1_edge_alerts_list",
        responses=inline_serializer("EdgeAlertList", {"results": EdgeAlertOutputSerializer(many=True)}),
    )
    def get(self, request):
        alerts_ = selectors.edge_alert_list(user=current_user(request))
        return Response({"results": EdgeAlertOutputSerializer(alerts_, many=True).data})

    @extend_schema(request=EdgeAlertInputSerializer, responses={201: EdgeAlertOutputSerializer})
    def post(self, request):
        data = _valid(request, partial=False)
        data.pop("is_active", None)
        alert = alerts.edge_alert_create(user=current_user(request), **data)
        return Response(EdgeAlertOutputSerializer(alert).data, status=201)


class EdgeAlertDetailApi(APIView):
    @extend_schema(responses=EdgeAlertOutputSerializer)
    def get(self, request, alert_id: int):
        alert = selectors.edge_alert_get(user=current_user(request), alert_id=alert_id)
        if alert is None:
            raise NotFound("No such alert.", details={"alert_id": alert_id})
        return Response(EdgeAlertOutputSerializer(alert).data)

    @extend_schema(request=EdgeAlertInputSerializer, responses=EdgeAlertOutputSerializer)
    def patch(self, request, alert_id: int):
        changes = _valid(request, partial=True)
        alert = alerts.edge_alert_update(user=current_user(request), alert_id=alert_id, changes=changes)
        return Response(EdgeAlertOutputSerializer(alert).data)

    @extend_schema(responses={204: None})
    def delete(self, request, alert_id: int):
        alerts.edge_alert_delete(user=current_user(request), alert_id=alert_id)
        return Response(status=204)
