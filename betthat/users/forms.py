from __future__ import annotations

from typing import Any

from django import forms
from rest_framework import serializers

from betthat.users import preferences as schema
from betthat.users import timezones
from betthat.users.models import User

TIMEZONES = [("", "Automatic: your browser's time zone"), *timezones.zone_choices()]


class AccountSettingsForm(forms.ModelForm):
    """Profile, sizing and preferences. Money limits live on the responsible-gambling page."""

    timezone = forms.ChoiceField(
        choices=TIMEZONES,
        required=False,
        label="Time zone",
        help_text="Every time on the site is shown in this zone (the API stays in UTC).",
    )
    odds_format = forms.ChoiceField(choices=schema.ODDS_FORMATS)
    devig_method = forms.ChoiceField(choices=schema.DEVIG_METHODS, label="De-vig method")
    reference = forms.ChoiceField(choices=schema.REFERENCES, label="Fair line reference")
    favourite_sports = forms.CharField(
        required=False,
        label="Favourite sports",
        help_text="Sport keys, comma-separated (for example basketball_nba, soccer_epl): the board shows these first.",
    )
    notify_settlements = forms.BooleanField(required=False, label="Notify me when a bet settles")
    notify_deposits = forms.BooleanField(required=False, label="Notify me when a deposit arrives")
    notify_email = forms.BooleanField(
        required=False,
        label="Email me these notifications too",
        help_text="Settlements, deposits (when chosen above), withdrawals and edge alerts that ask for email.",
    )

    class Meta:
        model = User
        fields = ["name", "phone", "timezone", "risk_tolerance", "auto_kelly_sizing", "max_kelly_fraction"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        prefs = schema.read(self.instance.preferences)
        self.fields["odds_format"].initial = prefs.odds_format
        self.fields["devig_method"].initial = prefs.devig_method
        self.fields["reference"].initial = prefs.reference
        self.fields["favourite_sports"].initial = ", ".join(prefs.favourite_sports)
        self.fields["notify_settlements"].initial = prefs.notify_settlements
        self.fields["notify_deposits"].initial = prefs.notify_deposits
        self.fields["notify_email"].initial = prefs.notify_email
        self._preferences: dict[str, Any] = {}

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        update = {
            "odds_format": data.get("odds_format"),
            "pricing": {"devig_method": data.get("devig_method"), "reference": data.get("reference")},
            "favourite_sports": [
                s.strip() for s in (data.get("favourite_sports") or "").split(",") if s.strip()
            ],
            "notify_settlements": bool(data.get("notify_settlements")),
            "notify_deposits": bool(data.get("notify_deposits")),
            "notify_email": bool(data.get("notify_email")),
        }
        if any(self.has_error(name) for name in ("odds_format", "devig_method", "reference")):
            return data
        try:
            self._preferences = schema.validate_update(update)
        except serializers.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {None: exc.detail}
            for field, messages in detail.items():
                target = field if field in self.fields else None
                for message in _flatten(messages):
                    self.add_error(target, message)
        return data

    def preferences(self) -> dict[str, Any]:
        """The checked preference update (call after is_valid())."""
        return self._preferences


def _flatten(messages: Any) -> list[str]:
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flatten(value)]
    if isinstance(messages, list):
        return [m for value in messages for m in _flatten(value)]
    return [str(messages)]


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        required=False,
        label="Token name",
        help_text="What will use it, for example 'laptop script'.",
    )


class IdentityForm(forms.Form):
    """Identity details for the KYC provider. Sent on, never stored (betthat/users/kyc.py)."""

    full_name = forms.CharField(max_length=150, label="Full name (as on the document)")
    date_of_birth = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    country = forms.CharField(
        min_length=2, max_length=2, label="Country of the document (two letters, e.g. GB)"
    )
    document_number = forms.CharField(max_length=40, label="Passport or ID card number")
