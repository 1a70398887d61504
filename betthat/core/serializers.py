"""Serializer pieces shared by every API: money as {"amount": "12.50", "currency": "USD"}."""

from __future__ import annotations

from rest_framework import serializers

from betthat.core.money import scale_minor


class MoneyOutputSerializer(serializers.Serializer):
    """A djmoney `Money` rendered with its amount as a decimal string."""

    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.SerializerMethodField()

    def get_currency(self, money) -> str:
        return str(money.currency)


def minor_to_decimal(amount_minor: int, places: int = 2) -> str:
    """Integer minor units to a decimal string, exactly (1234 -> "12.34")."""
    return str(scale_minor(amount_minor, places))
