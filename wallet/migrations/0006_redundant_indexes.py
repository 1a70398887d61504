"""Drop the single-column indexes on a transaction's user and an entry's account:
wallet_tx_user_id_idx and wallet_entry_account_time_idx lead with them, and every booking
writes each index of its header and entries (issue 14). The foreign keys stay untouched.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('wallet', '0005_adjustments_and_staff_permissions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='ledgerentry',
                    name='account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='wallet.account'),
                ),
                migrations.AlterField(
                    model_name='transaction',
                    name='user',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='wallet_transactions', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "wallet_ledgerentry_account_id_b3197ab5";\nDROP INDEX IF EXISTS "wallet_transaction_user_id_84bcdd20";',
                    'CREATE INDEX "wallet_ledgerentry_account_id_b3197ab5" ON "wallet_ledgerentry" ("account_id");\nCREATE INDEX "wallet_transaction_user_id_84bcdd20" ON "wallet_transaction" ("user_id");',
                ),
            ],
        ),
    ]
