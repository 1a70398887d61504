"""Recompute every bet's American price with the one odds conversion (issue 20, item 9).

Placement used to round half to even (2.125 -> +112) while the quote it was taken from said
+113 (half away from zero, `betthat.core.odds`). Only exact ties differ, so few rows change;
the rest are read and left alone. Reversing is a no-op: the old numbers were wrong.
"""

from django.db import migrations

BATCH = 2000


def recompute(apps, schema_editor):
    from betthat.core.odds import decimal_to_american

    Bet = apps.get_model("betting", "Bet")
    changed = []
    for bet in Bet.objects.only("id", "odds_decimal", "odds_american").order_by("id").iterator(chunk_size=BATCH):
        american = decimal_to_american(bet.odds_decimal)
        if bet.odds_american != american:
            bet.odds_american = american
            changed.append(bet)
        if len(changed) >= BATCH:
            Bet.objects.bulk_update(changed, ["odds_american"])
            changed = []
    if changed:
        Bet.objects.bulk_update(changed, ["odds_american"])


class Migration(migrations.Migration):
    dependencies = [("betting", "0004_redundant_indexes")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop, elidable=True)]
