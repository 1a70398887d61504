"""Every write of the social app."""

from social.services.follows import follow_create, follow_delete
from social.services.leaderboards import leaderboards_recompute
from social.services.moderation import profile_hide, profile_reset_bio, profile_restore
from social.services.profiles import profile_create_for_user, profile_update
from social.services.public_bets import (
    public_bet_from_placed_event,
    public_bet_from_result_event,
    public_bets_release,
)

__all__ = [
    "follow_create",
    "follow_delete",
    "leaderboards_recompute",
    "profile_create_for_user",
    "profile_hide",
    "profile_reset_bio",
    "profile_restore",
    "profile_update",
    "public_bet_from_placed_event",
    "public_bet_from_result_event",
    "public_bets_release",
]
