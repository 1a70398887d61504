"""Public units from the price and the result only (issue 18, item 1).

`PublicBet.profit_units` is each settled bet's profit per unit staked from its price and
result (and a parlay's from its legs), and `PublicBet.result` becomes the stake-free
result; the presenter, the profile statistics and the leaderboards read these instead of
net profit / stake, whose payout rounding depends on the stake. Published bets already
settled are filled in here with the same rule as `betting.selectors.bet_result_per_unit`
(kept inline so this migration means the same thing whatever that code becomes).
"""

from decimal import Decimal

from django.db import migrations, models

PLACES = Decimal("0.00000001")


def _per_unit(grading, bet, legs):
    if bet.status == "void" or bet.result == "void":
        return "void", Decimal(0)
    if bet.status != "settled" or not bet.result:
        return bet.result, None
    graded = [(grading.Result(leg.result), leg.price_decimal) for leg in legs if leg.result]
    if len(legs) > 1 and len(graded) == len(legs) and grading.settle(bet.stake_minor, graded).result == bet.result:
        result, factor = grading.settle_per_unit(graded)
        return result.value, (factor - 1).quantize(PLACES)
    factor = grading.leg_factor(grading.Result(bet.result), bet.odds_decimal)
    return bet.result, (factor - 1).quantize(PLACES)


def fill_units(apps, schema_editor):
    from betting import grading

    PublicBet = apps.get_model("social", "PublicBet")
    Bet = apps.get_model("betting", "Bet")
    BetLeg = apps.get_model("betting", "BetLeg")
    pending = PublicBet.objects.filter(status__in=["settled", "void"], profit_units__isnull=True)
    for public_bet in pending.iterator(chunk_size=2000):
        bet = Bet.objects.get(pk=public_bet.bet_id)
        legs = list(BetLeg.objects.filter(bet_id=bet.pk).order_by("position"))
        result, units = _per_unit(grading, bet, legs)
        PublicBet.objects.filter(pk=public_bet.pk).update(result=result, profit_units=units)


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0002_profiles_for_existing_users_and_append_only_record"),
        ("betting", "0004_redundant_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="publicbet",
            name="profit_units",
            field=models.DecimalField(blank=True, decimal_places=8, max_digits=20, null=True),
        ),
        migrations.RunPython(fill_units, migrations.RunPython.noop),
    ]
