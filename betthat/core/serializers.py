"""Serializer pieces shared by every API: money as {"amount": "12.50", "currency": "USD"}."""

from __future__ import annotations

import threading
from typing import Any

from django.utils.functional import cached_property
from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict

from betthat.core.money import scale_minor

_built = threading.local()


class FieldsBuiltOnceSerializer(serializers.Serializer[Any]):
    """A serializer whose fields are built once per class and thread instead of on every
    instance (DRF deep-copies every declared field, nested serializers included, for each
    instance: on the bet placement's hot path that was a fifth of its CPU).

    Each instance takes the thread's fields and points them at itself (`parent`, through
    which a field reaches its serializer's methods and context), so it is for top-level
    serializers of which one instance works at a time per thread (a `many=True` list uses
    one child), whose fields keep no state between calls (DRF's own fields keep none outside
    binding). Nested serializers inside such fields are built once with them."""

    @cached_property
    def fields(self) -> BindingDict:
        built: dict[type, BindingDict] = _built.__dict__.setdefault("fields", {})
        fields = built.get(type(self))
        if fields is None:
            fields = BindingDict(self)
            for name, field in self.get_fields().items():
                fields[name] = field
            built[type(self)] = fields
        else:
            for field in fields.values():
                field.parent = self
        return fields


class MoneyOutputSerializer(serializers.Serializer):
    """A djmoney `Money` rendered with its amount as a decimal string."""

    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.SerializerMethodField()

    def get_currency(self, money) -> str:
        return str(money.currency)


def minor_to_decimal(amount_minor: int, places: int = 2) -> str:
    """Integer minor units to a decimal string, exactly (1234 -> "12.34")."""
    return str(scale_minor(amount_minor, places))
