"""Bets keep the edge they were placed from (issue 20, item 8): `Bet.edge_snapshot`.

Placement copies the edge onto the bet from now on. For bets placed before, the edge rows
still kept (expired edges are deleted a week after they expire) are copied here, with the
fair price and Kelly fraction the bet itself recorded at placement, and marked `backfilled`
(the EV and edge % are the edge's last values, not necessarily those at placement).
"""

from django.db import migrations, models


def backfill(apps, schema_editor):
    Bet = apps.get_model("betting", "Bet")
    Edge = apps.get_model("edges", "Edge")
    bets = Bet.objects.exclude(edge_id="").filter(edge_snapshot__isnull=True)
    edge_ids = set(bets.values_list("edge_id", flat=True))
    edges = {e.edge_id: e for e in Edge.objects.filter(edge_id__in=edge_ids).select_related("sportsbook")}
    changed = []
    for bet in bets.only("id", "edge_id", "fair_odds_decimal", "kelly_fraction").iterator(chunk_size=2000):
        edge = edges.get(bet.edge_id)
        if edge is None:
            continue
        bet.edge_snapshot = {
            "edge_id": edge.edge_id,
            "kind": edge.kind,
            "status": edge.status,
            "sport_key": edge.sport_key,
            "market_type": edge.market_type,
            "player": edge.player,
            "line": None if edge.line is None else str(edge.line),
            "side": edge.side,
            "sportsbook": edge.sportsbook.key if edge.sportsbook else "",
            "best_odds_decimal": str(edge.best_odds_decimal),
            "best_odds_american": edge.best_odds_american,
            "fair_probability": edge.fair_probability,
            "fair_odds_decimal": None if bet.fair_odds_decimal is None else str(bet.fair_odds_decimal),
            "edge_percentage": edge.edge_percentage,
            "expected_value_per_dollar": edge.expected_value_per_dollar,
            "kelly_fraction": None if bet.kelly_fraction is None else float(bet.kelly_fraction),
            "devig_method": edge.devig_method,
            "reference": edge.reference,
            "legs": edge.legs,
            "middle_low": None if edge.middle_low is None else str(edge.middle_low),
            "middle_high": None if edge.middle_high is None else str(edge.middle_high),
            "version": edge.version,
            "discovered_at": edge.discovered_at.isoformat(),
            "updated_at": edge.updated_at.isoformat(),
            "backfilled": True,
        }
        changed.append(bet)
    Bet.objects.bulk_update(changed, ["edge_snapshot"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("betting", "0005_bet_odds_american_one_rounding"),
        ("edges", "0003_feed_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="bet",
            name="edge_snapshot",
            field=models.JSONField(blank=True, default=None, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
