from zoneinfo import available_timezones

from django import forms

from betthat.users.models import User

DEVIG_METHODS = [
    ("multiplicative", "Multiplicative"),
    ("additive", "Additive"),
    ("power", "Power"),
    ("shin", "Shin"),
    ("worst_case", "Worst case (most conservative)"),
]
REFERENCES = [("sharp", "Sharp books (Pinnacle)"), ("consensus", "Market consensus")]
ODDS_FORMATS = [("american", "American (+150)"), ("decimal", "Decimal (2.50)")]
TIMEZONES = sorted((tz, tz) for tz in available_timezones() if "/" in tz or tz == "UTC")


class AccountSettingsForm(forms.ModelForm):
    """Profile, sizing and preferences. Money limits live on the responsible-gambling page."""

    timezone = forms.ChoiceField(choices=TIMEZONES)
    odds_format = forms.ChoiceField(choices=ODDS_FORMATS)
    devig_method = forms.ChoiceField(choices=DEVIG_METHODS, label="De-vig method")
    reference = forms.ChoiceField(choices=REFERENCES, label="Fair line reference")
    sports = forms.CharField(required=False, help_text="Sport keys to follow, comma-separated")
    notify_bet_settled = forms.BooleanField(required=False, label="Notify me when a bet settles")
    notify_edges = forms.BooleanField(required=False, label="Notify me of new top edges")

    class Meta:
        model = User
        fields = ["name", "phone", "timezone", "risk_tolerance", "auto_kelly_sizing", "max_kelly_fraction"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        prefs = self.instance.preferences or {}
        self.fields["odds_format"].initial = prefs.get("ui", {}).get("odds_format", "american")
        self.fields["devig_method"].initial = prefs.get("pricing", {}).get("devig_method", "multiplicative")
        self.fields["reference"].initial = prefs.get("pricing", {}).get("reference", "sharp")
        self.fields["sports"].initial = ", ".join(prefs.get("sports", []))
        notifications = prefs.get("notifications", {})
        self.fields["notify_bet_settled"].initial = notifications.get("bet_settled", True)
        self.fields["notify_edges"].initial = notifications.get("edges", False)

    def preferences(self) -> dict:
        data = self.cleaned_data
        prefs = dict(self.instance.preferences or {})
        prefs["ui"] = {**prefs.get("ui", {}), "odds_format": data["odds_format"]}
        prefs["pricing"] = {"devig_method": data["devig_method"], "reference": data["reference"]}
        prefs["sports"] = [s.strip() for s in data["sports"].split(",") if s.strip()]
        prefs["notifications"] = {
            **prefs.get("notifications", {}),
            "bet_settled": data["notify_bet_settled"],
            "edges": data["notify_edges"],
        }
        return prefs
