"""The balanced-entries trigger checks each journal transaction once per firing, not once per
entry.

The constraint trigger stays DEFERRABLE INITIALLY DEFERRED and FOR EACH ROW (migration 0002);
only its function changes. After checking journal transaction T it remembers, for the rest of
the database transaction, T and the highest entry id the check summed
(`wallet.balanced_checked`, set_config local). A later firing for an entry of T whose id is
at most that id skips the query: that entry was part of the sum just checked. An entry
inserted after the check has a higher id (ids come from a sequence) and is checked again, so
`SET CONSTRAINTS ... IMMEDIATE` followed by more entries is still caught. A settled bet's
four entries cost one check instead of four.
"""

from django.db import migrations

CHECK_ONCE = """
CREATE OR REPLACE FUNCTION wallet_transaction_must_balance() RETURNS trigger AS $$
DECLARE
    unbalanced record;
    memo text := current_setting('wallet.balanced_checked', true);
    balanced boolean;
    checked_up_to bigint;
BEGIN
    IF memo IS NOT NULL AND split_part(memo, ':', 1) = NEW.transaction_id::text
       AND NEW.id <= split_part(memo, ':', 2)::bigint THEN
        RETURN NULL;
    END IF;
    SELECT bool_and(s.total = 0), max(s.last_id) INTO balanced, checked_up_to
      FROM (SELECT SUM(e.amount_minor) AS total, max(e.id) AS last_id
              FROM wallet_ledgerentry e
              JOIN wallet_account a ON a.id = e.account_id
             WHERE e.transaction_id = NEW.transaction_id
             GROUP BY a.currency) s;
    IF NOT balanced THEN
        SELECT a.currency, SUM(e.amount_minor) AS total INTO unbalanced
          FROM wallet_ledgerentry e
          JOIN wallet_account a ON a.id = e.account_id
         WHERE e.transaction_id = NEW.transaction_id
         GROUP BY a.currency
        HAVING SUM(e.amount_minor) <> 0
         LIMIT 1;
        RAISE EXCEPTION 'wallet transaction % is unbalanced: % entries sum to %',
            NEW.transaction_id, unbalanced.currency, unbalanced.total
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM set_config('wallet.balanced_checked', NEW.transaction_id::text || ':' || checked_up_to::text, true);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

EVERY_ROW = """
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
"""


class Migration(migrations.Migration):
    dependencies = [("wallet", "0003_bet_closed_once")]

    operations = [migrations.RunSQL(CHECK_ONCE, EVERY_ROW)]
