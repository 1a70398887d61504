"""The ledger's invariants, checked in SQL over the whole ledger (ledger_check, admin view)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

CHECKS: list[tuple[str, str, str]] = [
    (
        "transactions balance per currency",
        """
        SELECT e.transaction_id, a.currency, SUM(e.amount_minor)
          FROM wallet_ledgerentry e JOIN wallet_account a ON a.id = e.account_id
         GROUP BY e.transaction_id, a.currency HAVING SUM(e.amount_minor) <> 0
         ORDER BY 1 LIMIT 50
        """,
        "transaction {0} does not balance in {1}: entries sum to {2}",
    ),
    (
        "cached balances equal the sum of entries",
        """
        SELECT a.id, a.kind, a.currency, a.balance_minor, COALESCE(s.total, 0)
          FROM wallet_account a
          LEFT JOIN (SELECT account_id, SUM(amount_minor) AS total FROM wallet_ledgerentry GROUP BY account_id) s
                 ON s.account_id = a.id
         WHERE a.balance_minor <> COALESCE(s.total, 0)
         ORDER BY a.id LIMIT 50
        """,
        "account {0} ({1} {2}) caches {3} but its entries sum to {4}",
    ),
    (
        "no user balance is negative",
        """
        SELECT id, user_id, kind, currency, balance_minor FROM wallet_account
         WHERE user_id IS NOT NULL AND balance_minor < 0 ORDER BY id LIMIT 50
        """,
        "account {0} of user {1} ({2} {3}) is negative: {4}",
    ),
    (
        "completed transactions have entries, pending deposits none",
        """
        SELECT t.id, t.type, t.status, COUNT(e.id)
          FROM wallet_transaction t LEFT JOIN wallet_ledgerentry e ON e.transaction_id = t.id
         GROUP BY t.id
        HAVING (t.status = 'completed' AND COUNT(e.id) < 2)
            OR (t.type = 'DEPOSIT' AND t.status <> 'completed' AND COUNT(e.id) > 0)
         ORDER BY t.id LIMIT 50
        """,
        "transaction {0} ({1}, {2}) has {3} entries",
    ),
    (
        "each bet's hold is released or captured at most once, never beyond the stake",
        """
        WITH per_bet AS (
            SELECT bet_id,
                   COALESCE(SUM(amount_minor) FILTER (WHERE type = 'BET_PLACED'), 0) AS placed,
                   COUNT(*) FILTER (WHERE type IN ('BET_REFUND', 'BET_PAYOUT')) AS closings
              FROM wallet_transaction WHERE bet_id IS NOT NULL GROUP BY bet_id
        ),
        released AS (
            SELECT t.bet_id, -SUM(e.amount_minor) AS released
              FROM wallet_transaction t
              JOIN wallet_ledgerentry e ON e.transaction_id = t.id
              JOIN wallet_account a ON a.id = e.account_id AND a.kind = 'holds'
             WHERE t.bet_id IS NOT NULL AND t.type IN ('BET_REFUND', 'BET_PAYOUT')
             GROUP BY t.bet_id
        )
        SELECT p.bet_id, p.placed, p.closings, COALESCE(r.released, 0)
          FROM per_bet p LEFT JOIN released r ON r.bet_id = p.bet_id
         WHERE p.closings > 1 OR COALESCE(r.released, 0) > p.placed
         ORDER BY p.bet_id LIMIT 50
        """,
        "bet {0}: stake {1} closed {2} times, releasing {3} from holds",
    ),
    (
        "each withdrawal hold is paid out or released exactly once",
        """
        SELECT t.id, t.status, COALESCE(SUM(e.amount_minor) FILTER (WHERE a.kind = 'holds'), 0) AS still_held
          FROM wallet_transaction t
          LEFT JOIN wallet_ledgerentry e ON e.transaction_id = t.id
          LEFT JOIN wallet_account a ON a.id = e.account_id
         WHERE t.type = 'WITHDRAWAL'
         GROUP BY t.id
        HAVING (t.status = 'pending' AND COALESCE(SUM(e.amount_minor) FILTER (WHERE a.kind = 'holds'), 0) <> t.amount_minor)
            OR (t.status <> 'pending' AND COALESCE(SUM(e.amount_minor) FILTER (WHERE a.kind = 'holds'), 0) <> 0)
         ORDER BY t.id LIMIT 50
        """,
        "withdrawal {0} ({1}) still holds {2}",
    ),
]


@dataclass
class CheckResult:
    name: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class LedgerReport:
    results: list[CheckResult]
    transactions: int
    entries: int
    accounts: int

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def lines(self) -> list[str]:
        out = [f"Ledger: {self.accounts} accounts, {self.transactions} transactions, {self.entries} entries"]
        for result in self.results:
            out.append(f"  [{'ok' if result.ok else 'FAIL'}] {result.name}")
            out.extend(f"         - {problem}" for problem in result.problems)
        out.append("All invariants hold." if self.ok else "LEDGER INVARIANTS VIOLATED.")
        return out


def ledger_report() -> LedgerReport:
    results = []
    with connection.cursor() as cursor:
        for name, sql, template in CHECKS:
            cursor.execute(sql)
            results.append(
                CheckResult(name=name, problems=[template.format(*row) for row in cursor.fetchall()])
            )
        cursor.execute(
            "SELECT (SELECT COUNT(*) FROM wallet_transaction), (SELECT COUNT(*) FROM wallet_ledgerentry),"
            " (SELECT COUNT(*) FROM wallet_account)"
        )
        transactions, entries, accounts = cursor.fetchone()
    return LedgerReport(results=results, transactions=transactions, entries=entries, accounts=accounts)
