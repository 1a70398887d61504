"""The ledger rules, enforced by PostgreSQL itself (not only by the services).

1. A deferred constraint trigger: when a database transaction commits, the entries of every
   wallet transaction it touched must sum to zero per currency (raw SQL cannot cheat).
2. Ledger entries are append-only: UPDATE and DELETE raise.
(3. The CHECK that a user's balance is never negative is a model constraint in 0001.)
"""

from django.db import migrations

BALANCED = """
CREATE OR REPLACE FUNCTION wallet_transaction_must_balance() RETURNS trigger AS $$
DECLARE
    unbalanced record;
BEGIN
    SELECT a.currency, SUM(e.amount_minor) AS total INTO unbalanced
      FROM wallet_ledgerentry e
      JOIN wallet_account a ON a.id = e.account_id
     WHERE e.transaction_id = NEW.transaction_id
     GROUP BY a.currency
    HAVING SUM(e.amount_minor) <> 0
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'wallet transaction % is unbalanced: % entries sum to %',
            NEW.transaction_id, unbalanced.currency, unbalanced.total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER wallet_ledgerentry_balanced
    AFTER INSERT ON wallet_ledgerentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION wallet_transaction_must_balance();
"""

UNBALANCED_DROP = """
DROP TRIGGER IF EXISTS wallet_ledgerentry_balanced ON wallet_ledgerentry;
DROP FUNCTION IF EXISTS wallet_transaction_must_balance();
"""

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION wallet_ledgerentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only: % of entry % refused (book a reversing transaction)',
        TG_OP, OLD.id
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER wallet_ledgerentry_no_update_or_delete
    BEFORE UPDATE OR DELETE ON wallet_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION wallet_ledgerentry_append_only();
"""

APPEND_ONLY_DROP = """
DROP TRIGGER IF EXISTS wallet_ledgerentry_no_update_or_delete ON wallet_ledgerentry;
DROP FUNCTION IF EXISTS wallet_ledgerentry_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(BALANCED, UNBALANCED_DROP),
        migrations.RunSQL(APPEND_ONLY, APPEND_ONLY_DROP),
    ]
