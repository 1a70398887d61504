"""The hot tables carry no index that another one makes redundant (issue 14): every
placement and settlement writes each index of the bet, its legs, its ledger rows and its
outbox events, so an index whose columns lead another index costs writes and serves nothing
the longer one does not."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

HOT_TABLES = ["betting_bet", "betting_betleg", "wallet_transaction", "wallet_ledgerentry", "core_outboxevent"]


def plain_indexes(table: str) -> dict[str, tuple[list[str], str]]:
    """name -> (columns in order, operator classes) of the table's non-unique, non-partial
    btree indexes, and every index's columns for comparison."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, ix.indisunique, ix.indpred IS NOT NULL,
                   array(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, n)
                         JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                         ORDER BY k.n)::text[],
                   pg_get_indexdef(ix.indexrelid)
              FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid
             WHERE ix.indrelid = %s::regclass
            """,
            [table],
        )
        return {
            name: (unique, partial, columns, ddl) for name, unique, partial, columns, ddl in cursor.fetchall()
        }


@pytest.mark.parametrize("table", HOT_TABLES)
def test_no_plain_index_is_led_by_another_of_the_same_table(table):
    indexes = plain_indexes(table)
    redundant = []
    for name, (unique, partial, columns, ddl) in indexes.items():
        if unique or partial:
            continue  # a constraint, or a different set of rows
        for other, (_unique, other_partial, other_columns, other_ddl) in indexes.items():
            if other == name or other_partial:
                continue
            same_classes = ("pattern_ops" in ddl) == ("pattern_ops" in other_ddl)
            if (
                other_columns[: len(columns)] == columns
                and same_classes
                and len(other_columns) >= len(columns)
            ):
                redundant.append(f"{name} {columns} is led by {other} {other_columns}")
    assert redundant == []


def test_the_dropped_indexes_are_gone_and_their_foreign_keys_kept():
    assert "betting_bet_user_id_6350abff" not in plain_indexes("betting_bet")
    assert "betting_bet_sportsbook_id_8ede0a7a_like" not in plain_indexes("betting_bet")
    assert "bet_sportsbook_idx" in plain_indexes("betting_bet")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [["betting_bet", "betting_betleg", "wallet_transaction", "wallet_ledgerentry"]],
        )
        (foreign_keys,) = cursor.fetchone()
    # as many as before the migration (it drops indexes only, never a constraint)
    assert foreign_keys == 13
