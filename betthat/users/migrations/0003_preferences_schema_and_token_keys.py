"""Data: preferences in the typed flat schema; API tokens of DRF's table carried over (hashed),
then that table dropped."""

import hashlib
from datetime import timedelta

from django.db import migrations
from django.utils import timezone


def flatten_preferences(apps, schema_editor):
    from betthat.users.preferences import from_legacy, read

    User = apps.get_model("users", "User")
    for user in User._base_manager.only("id", "preferences").iterator():
        stored = user.preferences if isinstance(user.preferences, dict) else {}
        legacy = any(key in stored for key in ("ui", "notifications", "sports"))
        converted = from_legacy(stored) if legacy else read(stored).as_json()
        if converted != stored:
            User._base_manager.filter(pk=user.pk).update(preferences=converted)


def carry_over_tokens(apps, schema_editor):
    """Tokens made before tokens were hashed keep working until the lifetime from now ends."""
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("users", "ApiToken")
    expires = timezone.now() + timedelta(days=30)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id, created FROM authtoken_token")
        rows = cursor.fetchall()
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                user_id=user_id,
                key_hash=hashlib.sha256(key.encode()).hexdigest(),
                prefix=key[:8],
                name="carried over",
                created_at=created,
                expires_at=expires,
            )
            for key, user_id, created in rows
        ],
        ignore_conflicts=True,
    )
    # DRF's token app is gone from INSTALLED_APPS: its table (with a foreign key to users that
    # Django no longer knows about) goes too, and so do its migration records.
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS authtoken_token CASCADE")
        cursor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [("users", "0002_api_tokens_staff_permissions")]

    operations = [
        migrations.RunPython(flatten_preferences, migrations.RunPython.noop),
        migrations.RunPython(carry_over_tokens, migrations.RunPython.noop),
    ]
