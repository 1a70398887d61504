"""Drop the indexes another index already leads with (issue 14): each placement writes every
index of the bet and its legs, and each settlement every index of the bet again (status is
indexed, so the update is never HOT). The foreign keys stay as they are: only their indexes
go (Django's own AlterField would drop and re-add each constraint, re-checking every row).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('betting', '0003_bet_reserve_function'),
        ('edges', '0003_feed_state'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='bet',
                    name='event',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='bets', to='edges.event'),
                ),
                migrations.AlterField(
                    model_name='bet',
                    name='sportsbook',
                    field=models.ForeignKey(db_column='sportsbook_id', db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='edges.sportsbook', to_field='key'),
                ),
                migrations.AlterField(
                    model_name='bet',
                    name='user',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='bets', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='betleg',
                    name='bet',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='legs', to='betting.bet'),
                ),
                migrations.AlterField(
                    model_name='betleg',
                    name='event',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='edges.event'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "betting_bet_event_id_594c0c1c";\nDROP INDEX IF EXISTS "betting_bet_sportsbook_id_8ede0a7a";\nDROP INDEX IF EXISTS "betting_bet_sportsbook_id_8ede0a7a_like";\nDROP INDEX IF EXISTS "betting_bet_user_id_6350abff";\nDROP INDEX IF EXISTS "betting_betleg_bet_id_c5073b7a";\nDROP INDEX IF EXISTS "betting_betleg_event_id_8e9aa4a8";',
                    'CREATE INDEX "betting_bet_event_id_594c0c1c" ON "betting_bet" ("event_id");\nCREATE INDEX "betting_bet_sportsbook_id_8ede0a7a" ON "betting_bet" ("sportsbook_id");\nCREATE INDEX "betting_bet_sportsbook_id_8ede0a7a_like" ON "betting_bet" ("sportsbook_id" varchar_pattern_ops);\nCREATE INDEX "betting_bet_user_id_6350abff" ON "betting_bet" ("user_id");\nCREATE INDEX "betting_betleg_bet_id_c5073b7a" ON "betting_betleg" ("bet_id");\nCREATE INDEX "betting_betleg_event_id_8e9aa4a8" ON "betting_betleg" ("event_id");',
                ),
            ],
        ),
        migrations.AddIndex(
            model_name='bet',
            index=models.Index(fields=['sportsbook'], name='bet_sportsbook_idx'),
        ),
    ]
