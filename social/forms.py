from __future__ import annotations

from django import forms

from social.handles import MAX_LENGTH
from social.models import DISPLAY_NAME_MAX, MAX_DELAY_SEC, StakeVisibility

DELAY_HELP = "0 shows a bet as soon as it is placed; 300 = 5 minutes; at most 86,400 (24 hours)."


class ProfileSettingsForm(forms.Form):
    handle = forms.CharField(
        max_length=MAX_LENGTH,
        min_length=3,
        label="Handle",
        help_text="3 to 30 lowercase letters, digits or underscores; your page is /u/<handle>/.",
    )
    is_public = forms.BooleanField(
        required=False,
        label="Public profile",
        help_text="Others can see your profile, follow you and see your bets after the delay. "
        "Bets placed while private are never published.",
    )
    stake_visibility = forms.ChoiceField(
        choices=[
            (StakeVisibility.HIDDEN, "Hidden: no amounts, results in units"),
            (StakeVisibility.ROUNDED, "Rounded: a range such as 1,200 to 1,300"),
            (StakeVisibility.EXACT, "Exact: the stake and profit"),
        ],
        label="Stakes shown to others",
        widget=forms.RadioSelect,
    )
    live_delay_sec = forms.IntegerField(
        min_value=0, max_value=MAX_DELAY_SEC, label="Live delay (seconds)", help_text=DELAY_HELP
    )
    display_name = forms.CharField(
        required=False,
        max_length=DISPLAY_NAME_MAX,
        label="Display name",
        help_text="Shown beside your handle; people can find you by it (and by your handle) when your profile is public.",
    )
    bio = forms.CharField(
        required=False,
        max_length=280,
        label="Bio",
        help_text="Plain text, up to 280 characters.",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 280}),
    )
