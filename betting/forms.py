from decimal import Decimal
from typing import Any

from django import forms

from wallet.money import parse_amount

AMOUNT: dict[str, Any] = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0.01")}


class LimitsForm(forms.Form):
    max_bet_size = forms.DecimalField(label="Max bet", **AMOUNT)
    daily_bet_limit = forms.DecimalField(label="Daily limit", **AMOUNT)
    monthly_bet_limit = forms.DecimalField(label="Monthly limit", **AMOUNT)

    def limits_minor(self) -> dict[str, int]:
        return {name: parse_amount(value) for name, value in self.cleaned_data.items()}


class SelfExclusionForm(forms.Form):
    CHOICES = [
        (1, "24 hours"),
        (7, "7 days"),
        (30, "30 days"),
        (90, "90 days"),
        (180, "6 months"),
        (365, "1 year"),
        (1825, "5 years"),
    ]
    days = forms.TypedChoiceField(choices=CHOICES, coerce=int, label="Take a break for")
    confirm = forms.BooleanField(label="I understand I cannot bet until it ends, and it cannot be shortened.")


class BetFilterForm(forms.Form):
    STATUS_CHOICES = [
        ("", "All"),
        ("open", "Open"),
        ("settled", "Settled"),
        ("cancelled", "Cancelled"),
        ("rejected", "Rejected"),
    ]
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    sport = forms.CharField(required=False, max_length=60)
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
