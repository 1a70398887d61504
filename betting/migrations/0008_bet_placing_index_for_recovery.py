# The recovery sweep's index (betting/services/recovery.py): the few bets left `placing`.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('betting', '0007_merge_20261204_1752'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='bet',
            index=models.Index(condition=models.Q(('status', 'placing')), fields=['placed_at'], name='bet_placing_idx'),
        ),
    ]
