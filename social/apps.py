from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "social"
    verbose_name = "Social"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_delete, post_save

        from social import handlers  # noqa: F401  (registers the outbox handlers)
        from social.models import Profile
        from social.signals import (
            create_profile_for_new_user,
            drop_unlisted_user_from_open_feeds,
            hold_handle_of_deleted_profile,
        )

        post_save.connect(
            create_profile_for_new_user,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="social_profile_for_new_user",
        )
        post_save.connect(
            drop_unlisted_user_from_open_feeds,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="social_unlisted_user_leaves_open_feeds",
        )
        post_delete.connect(
            hold_handle_of_deleted_profile, sender=Profile, dispatch_uid="social_handle_of_deleted_profile"
        )
