"""A profile for every new user. The users app must not import social, so social listens
to the user model's post_save (connected in SocialConfig.ready)."""

from __future__ import annotations


def create_profile_for_new_user(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw:
        return
    from social.services import profile_create_for_user

    # In the user's own transaction: a rolled-back signup leaves no profile behind. The
    # handle search is one indexed query; a clash is retried inside a savepoint.
    profile_create_for_user(user=instance)
