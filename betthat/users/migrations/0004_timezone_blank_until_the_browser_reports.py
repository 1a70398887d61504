"""`User.timezone` is blank until the browser reports the user's zone (issue 20, item 2).

The field defaulted to "UTC" and nothing set it, so "UTC" cannot be told apart from "never
chosen": those rows become blank and take the browser's zone on the next page (a user who
wants UTC sets it again in the settings; it is then kept). Reversing writes "UTC" back.
"""

from django.db import migrations, models


def utc_to_blank(apps, schema_editor):
    apps.get_model("users", "User").objects.filter(timezone="UTC").update(timezone="")


def blank_to_utc(apps, schema_editor):
    apps.get_model("users", "User").objects.filter(timezone="").update(timezone="UTC")


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0003_preferences_schema_and_token_keys"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="timezone",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(utc_to_blank, blank_to_utc),
    ]
