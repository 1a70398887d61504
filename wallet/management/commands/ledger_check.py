"""`python manage.py ledger_check`: prove the ledger's invariants; exit 1 with a report if not."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from wallet.health import ledger_report


class Command(BaseCommand):
    help = "Check every ledger invariant; exit non-zero with a readable report if one fails."

    def handle(self, *args: object, **options: object) -> None:
        report = ledger_report()
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            self.stderr.write(self.style.ERROR("ledger_check failed"))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("ledger_check passed"))
