"""The edge filters, one form for the board page, its websocket and the API.

Edge % and EV are rates. The API reads them as fractions (0.02) as its responses give them;
the board page and its websocket show percents, so there they are read as percents ("2" is
2 %). A trailing "%" always means percent, in either mode.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from edges.models import Edge
from edges.selectors import ORDERINGS, EdgeFilters

STATUS_CHOICES = [("active", "Active"), ("stale", "Stale"), ("expired", "Expired"), ("all", "All")]
HUNDRED = Decimal(100)
ALL_SPORTS = "all"  # sport=all: every sport, whatever the viewer's favourites


class RateField(forms.Field):
    """A rate as a float fraction, from "0.02" (fraction mode), "2" (percent mode) or "2%"."""

    def __init__(self, *, min_value: float, max_value: float, **kwargs: Any) -> None:
        self.min_value = Decimal(str(min_value))
        self.max_value = Decimal(str(max_value))
        self.percent = False
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> float | None:
        if value in self.empty_values:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError("Enter a number.", code="invalid")
        text = str(value).strip()
        is_percent = self.percent or text.endswith("%")
        text = text.removesuffix("%").strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValidationError(self._hint("Enter a number"), code="invalid") from None
        if not number.is_finite() or "e" in text.lower():
            raise ValidationError(self._hint("Enter a plain number"), code="invalid")
        if is_percent:
            number /= HUNDRED
        if not self.min_value <= number <= self.max_value:
            raise ValidationError(
                self._hint(
                    f"Enter a rate between {self._show(self.min_value)} and {self._show(self.max_value)}"
                ),
                code="range",
            )
        return float(number)

    def _show(self, fraction: Decimal) -> str:
        return f"{(fraction * HUNDRED).normalize():f}%"

    def _hint(self, message: str) -> str:
        example = "2 or 2%" if self.percent else "0.02 or 2%"
        return f"{message}, e.g. {example} for 2 percent."


class EdgeFilterForm(forms.Form):
    sport = forms.SlugField(
        required=False, max_length=60, help_text="a sport key, or 'all'; unset: your favourite sports"
    )
    market_type = forms.CharField(required=False, max_length=60)
    kind = forms.ChoiceField(required=False, choices=[("", "Any"), *Edge.Kind.choices])
    sportsbook = forms.SlugField(required=False, max_length=40)
    event = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    player = forms.CharField(required=False, max_length=120)
    min_edge = RateField(required=False, min_value=-1, max_value=1, help_text="0.02 or 2% = 2 percent")
    min_ev = RateField(required=False, min_value=-1, max_value=10, help_text="0.02 or 2% = 2 percent")
    max_age = forms.FloatField(required=False, min_value=0, max_value=86_400, help_text="seconds")
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)
    ordering = forms.ChoiceField(required=False, choices=[(k, k) for k in ORDERINGS])

    def __init__(self, *args: Any, percent: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.percent = percent
        for name in ("min_edge", "min_ev"):
            field = self.fields[name]
            assert isinstance(field, RateField)
            field.percent = percent
            if percent:
                field.help_text = "percent: 2 = 2%"

    def to_filters(self, *, favourite_sports: tuple[str, ...] = ()) -> EdgeFilters:
        """The filters; with no sport chosen, the viewer's favourite sports (if any) are the
        default, and `sport=all` asks for every sport explicitly."""
        data = self.cleaned_data
        sport = data.get("sport") or ""
        return EdgeFilters(
            sport="" if sport == ALL_SPORTS else sport,
            sports=favourite_sports if not sport else (),
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


class EdgeAlertForm(forms.Form):
    """An edge alert from the alerts page or the board's "alert me on this filter": min EV
    in percent, as the board shows it ("3" or "3%" = 3 %)."""

    name = forms.CharField(required=False, max_length=80)
    sport_key = forms.SlugField(required=False, max_length=60, label="Sport")
    kind = forms.ChoiceField(required=False, choices=[("", "Any"), *Edge.Kind.choices])
    min_ev = RateField(required=False, min_value=-1, max_value=10, label="Min EV (%)")
    sportsbook_key = forms.SlugField(required=False, max_length=40, label="Book")
    send_email = forms.BooleanField(required=False, label="Email me too")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["min_ev"]
        assert isinstance(field, RateField)
        field.percent = True

    def clean_sport_key(self) -> str:
        from edges.models import Sport

        value = self.cleaned_data.get("sport_key") or ""
        if value and not Sport.objects.filter(key=value).exists():
            raise ValidationError(f"No sport {value!r}.", code="invalid")
        return value

    def clean_sportsbook_key(self) -> str:
        from edges.models import Sportsbook

        value = self.cleaned_data.get("sportsbook_key") or ""
        if value and not Sportsbook.objects.filter(key=value).exists():
            raise ValidationError(f"No sportsbook {value!r}.", code="invalid")
        return value
