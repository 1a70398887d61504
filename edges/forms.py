"""The edge filters, one form for the board page, the API and the websocket."""

from __future__ import annotations

from django import forms

from edges.models import Edge
from edges.selectors import ORDERINGS, EdgeFilters

STATUS_CHOICES = [("active", "Active"), ("stale", "Stale"), ("expired", "Expired"), ("all", "All")]


class EdgeFilterForm(forms.Form):
    sport = forms.SlugField(required=False, max_length=60)
    market_type = forms.CharField(required=False, max_length=60)
    kind = forms.ChoiceField(required=False, choices=[("", "Any"), *Edge.Kind.choices])
    sportsbook = forms.SlugField(required=False, max_length=40)
    event = forms.IntegerField(required=False, min_value=1)
    player = forms.CharField(required=False, max_length=120)
    min_edge = forms.FloatField(
        required=False, min_value=-1, max_value=1, help_text="as a fraction: 0.02 = 2%"
    )
    min_ev = forms.FloatField(required=False, min_value=-1, max_value=10)
    max_age = forms.FloatField(required=False, min_value=0, max_value=86_400, help_text="seconds")
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)
    ordering = forms.ChoiceField(required=False, choices=[(k, k) for k in ORDERINGS])

    def to_filters(self) -> EdgeFilters:
        data = self.cleaned_data
        return EdgeFilters(
            sport=data.get("sport") or "",
            market_type=data.get("market_type") or "",
            kind=data.get("kind") or "",
            sportsbook=data.get("sportsbook") or "",
            event_id=data.get("event"),
            player=data.get("player") or "",
            min_edge=data.get("min_edge"),
            min_ev=data.get("min_ev"),
            max_age_seconds=data.get("max_age"),
            status=data.get("status") or "active",
            ordering=data.get("ordering") or "-ev",
        )
