"""Social's two receivers on the user model's post_save (connected in SocialConfig.ready):
a profile for every new user, and open feeds told at once when a user stops being listed
(suspended, soft-deleted). The users app must not import social, so social listens."""

from __future__ import annotations


def create_profile_for_new_user(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw:
        return
    from social.services import profile_create_for_user

    # In the user's own transaction: a rolled-back signup leaves no profile behind. The
    # handle search is one indexed query; a clash is retried inside a savepoint.
    profile_create_for_user(user=instance)


STANDING_FIELDS = frozenset({"status", "is_active", "deleted_at"})


def drop_unlisted_user_from_open_feeds(
    sender, instance, created: bool, raw: bool = False, update_fields=None, **kwargs
) -> None:
    """A user suspended, soft-deleted or made inactive leaves every public surface at the
    next read (`social.models.listed_q`); this tells the followers' open feed pages to drop
    their items now (a `feed.remove` frame after the user's transaction commits). A restore
    sends nothing: the bettor's items come back on the next read of the feed."""
    if created or raw or (update_fields is not None and not STANDING_FIELDS & set(update_fields)):
        return
    from social.models import Profile, user_is_listed
    from social.services.profiles import push_removal

    if user_is_listed(instance):
        return
    profile = Profile.objects.filter(user_id=instance.pk).first()
    if profile is not None:
        push_removal(profile)


def hold_handle_of_deleted_profile(sender, instance, **kwargs) -> None:
    """A profile row deleted (its user deleted for good: the cascade runs outside social's
    services) gives its handle up: nobody takes it, or a look-alike, until it has cooled."""
    from social.models import HandleRelease

    HandleRelease.objects.create(handle=instance.handle, user=None, reason="deleted")
