"""OpenAPI generation: readable, unique component names for our nested serializers.

Views follow the style guide (`class BetPlaceApi: class InputSerializer ...`), so dozens of
serializers are called "InputSerializer" or "OutputSerializer"; drf-spectacular would name
them all "Input"/"Output" and collide. We name each after its view instead: BetPlaceInput.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        qualname = type(serializer).__qualname__
        if "." in qualname:
            outer, inner = qualname.split(".")[-2:]
            name = outer.removesuffix("Api") + inner.removesuffix("Serializer")
        return name


def paginated(name: str, item: serializers.Serializer) -> serializers.Serializer:
    """The page shape of DRF's PageNumberPagination around `item`."""
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item,
        },
    )


def cursor_paginated(name: str, item: serializers.Serializer) -> serializers.Serializer:
    """The page shape of DRF's CursorPagination around `item` (no count: cursors do not count)."""
    return inline_serializer(
        name=name,
        fields={
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item,
        },
    )


def query_parameters(form_class) -> list[OpenApiParameter]:
    """Document a Django form used to validate query parameters."""
    types: dict[str, type] = {
        "IntegerField": int,
        "FloatField": float,
        "DecimalField": float,
        "BooleanField": bool,
        "DateField": str,
    }
    params = []
    for name, field in form_class.base_fields.items():
        kind = types.get(type(field).__name__, str)
        enum = [value for value, _ in getattr(field, "choices", []) if value] or None
        params.append(
            OpenApiParameter(
                name=name,
                type=kind,
                required=field.required,
                description=str(field.help_text or field.label or ""),
                enum=enum,
            )
        )
    return params
