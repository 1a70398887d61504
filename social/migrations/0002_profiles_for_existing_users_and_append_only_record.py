"""A profile for every existing user (private, stake hidden, default delay, a handle from
the name), and the record table made append-only by the database."""

from django.conf import settings
from django.db import migrations

APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION social_record_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'social_recordentry is append-only (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER social_record_append_only
    BEFORE UPDATE OR DELETE ON social_recordentry
    FOR EACH ROW EXECUTE FUNCTION social_record_append_only();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS social_record_append_only ON social_recordentry;
DROP FUNCTION IF EXISTS social_record_append_only();
"""


def create_profiles(apps, schema_editor):
    from social.handles import MAX_LENGTH, handle_base_from

    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Profile = apps.get_model("social", "Profile")
    taken = set(Profile.objects.values_list("handle", flat=True))
    has_profile = set(Profile.objects.values_list("user_id", flat=True))
    new = []
    for user in User.objects.order_by("pk").only("pk", "name", "email").iterator():
        if user.pk in has_profile:
            continue
        base = handle_base_from(user.name, user.email)
        handle, number = base, 1
        while handle in taken:
            number += 1
            handle = f"{base[: MAX_LENGTH - len(str(number))]}{number}"
        taken.add(handle)
        new.append(Profile(user_id=user.pk, handle=handle, live_delay_sec=settings.SOCIAL_DEFAULT_DELAY_SEC))
    Profile.objects.bulk_create(new, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_profiles, migrations.RunPython.noop),
        migrations.RunSQL(APPEND_ONLY_SQL, DROP_SQL),
    ]
