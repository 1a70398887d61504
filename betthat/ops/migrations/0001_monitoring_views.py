"""The monitoring views of the seed (`active_edges`, `user_bet_stats`, `dashboard_summary`) and
the few more the staff dashboard reads, as PostgreSQL views read through unmanaged models.

A view pins the type of every column it selects (PostgreSQL refuses ALTER COLUMN TYPE on a
column a view uses), so each view selects only the columns the dashboard needs: none of them
touches a price column (`odds_american`, `price_american`, `best_odds_american`, ...) that
another change may widen. Money is summed in integer minor units, per currency.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ACTIVE_EDGES = """
CREATE VIEW active_edges AS
SELECT e.id, e.edge_id, e.kind, e.sport_key, e.event_id, e.sportsbook_id, e.edge_percentage,
       e.expected_value_per_dollar, e.discovered_at, e.stale_after
  FROM edges_edge e
 WHERE e.status = 'active'
"""

USER_BET_STATS = """
CREATE VIEW user_bet_stats AS
SELECT b.user_id || ':' || b.currency AS id,
       b.user_id,
       b.currency,
       count(*) FILTER (WHERE b.status <> 'cancelled') AS bets,
       count(*) FILTER (WHERE b.status = 'pending') AS pending,
       count(*) FILTER (WHERE b.status IN ('settled', 'void')) AS settled,
       count(*) FILTER (WHERE b.result IN ('win', 'half_win')) AS won,
       count(*) FILTER (WHERE b.result IN ('loss', 'half_loss')) AS lost,
       COALESCE(sum(b.stake_minor) FILTER (WHERE b.status <> 'cancelled'), 0)::bigint AS staked_minor,
       COALESCE(sum(b.stake_minor) FILTER (WHERE b.status = 'pending'), 0)::bigint AS open_stake_minor,
       COALESCE(sum(b.potential_return_minor - b.stake_minor) FILTER (WHERE b.status = 'pending'), 0)::bigint
           AS open_liability_minor,
       COALESCE(sum(b.net_profit_minor) FILTER (WHERE b.status IN ('settled', 'void')), 0)::bigint
           AS net_profit_minor,
       max(b.placed_at) AS last_bet_at
  FROM betting_bet b
 GROUP BY b.user_id, b.currency
"""

# One row per (period, currency): handle and placements by placing time, house profit by
# settling time, open exposure (what the house pays beyond the stakes if every pending bet
# wins) of the pending bets placed in the period. "today" starts at midnight UTC. One pass
# over the bets of the last 30 days, then one row per period.
DASHBOARD_SUMMARY = """
CREATE VIEW dashboard_summary AS
WITH bounds AS (
    SELECT date_trunc('day', now()) AS today, now() - interval '7 days' AS week, now() - interval '30 days' AS month
), per_currency AS (
    SELECT b.currency,
           x.today, x.week, x.month,
           count(*) FILTER (WHERE b.status <> 'cancelled' AND b.placed_at >= x.today) AS placed_today,
           count(*) FILTER (WHERE b.status <> 'cancelled' AND b.placed_at >= x.week) AS placed_week,
           count(*) FILTER (WHERE b.status <> 'cancelled' AND b.placed_at >= x.month) AS placed_month,
           sum(b.stake_minor) FILTER (WHERE b.status <> 'cancelled' AND b.placed_at >= x.today) AS handle_today,
           sum(b.stake_minor) FILTER (WHERE b.status <> 'cancelled' AND b.placed_at >= x.week) AS handle_week,
           sum(b.stake_minor) FILTER (WHERE b.status <> 'cancelled' AND b.placed_at >= x.month) AS handle_month,
           count(*) FILTER (WHERE b.status IN ('settled', 'void') AND b.settled_at >= x.today) AS settled_today,
           count(*) FILTER (WHERE b.status IN ('settled', 'void') AND b.settled_at >= x.week) AS settled_week,
           count(*) FILTER (WHERE b.status IN ('settled', 'void') AND b.settled_at >= x.month) AS settled_month,
           -sum(b.net_profit_minor) FILTER (WHERE b.status IN ('settled', 'void') AND b.settled_at >= x.today)
               AS profit_today,
           -sum(b.net_profit_minor) FILTER (WHERE b.status IN ('settled', 'void') AND b.settled_at >= x.week)
               AS profit_week,
           -sum(b.net_profit_minor) FILTER (WHERE b.status IN ('settled', 'void') AND b.settled_at >= x.month)
               AS profit_month,
           count(*) FILTER (WHERE b.status = 'pending' AND b.placed_at >= x.today) AS open_today,
           count(*) FILTER (WHERE b.status = 'pending' AND b.placed_at >= x.week) AS open_week,
           count(*) FILTER (WHERE b.status = 'pending' AND b.placed_at >= x.month) AS open_month,
           sum(b.potential_return_minor - b.stake_minor) FILTER (WHERE b.status = 'pending' AND b.placed_at >= x.today)
               AS exposure_today,
           sum(b.potential_return_minor - b.stake_minor) FILTER (WHERE b.status = 'pending' AND b.placed_at >= x.week)
               AS exposure_week,
           sum(b.potential_return_minor - b.stake_minor) FILTER (WHERE b.status = 'pending' AND b.placed_at >= x.month)
               AS exposure_month
      FROM betting_bet b CROSS JOIN bounds x
     WHERE b.placed_at >= x.month OR b.settled_at >= x.month
     GROUP BY b.currency, x.today, x.week, x.month
)
SELECT p.period || ':' || c.currency AS id, p.period, p.position, p.starts_at, c.currency,
       COALESCE(p.bets_placed, 0) AS bets_placed,
       COALESCE(p.handle_minor, 0)::bigint AS handle_minor,
       COALESCE(p.bets_settled, 0) AS bets_settled,
       COALESCE(p.house_profit_minor, 0)::bigint AS house_profit_minor,
       COALESCE(p.open_bets, 0) AS open_bets,
       COALESCE(p.open_exposure_minor, 0)::bigint AS open_exposure_minor
  FROM per_currency c
 CROSS JOIN LATERAL (
        VALUES ('today', 1, c.today, c.placed_today, c.handle_today, c.settled_today, c.profit_today,
                c.open_today, c.exposure_today),
               ('7d', 2, c.week, c.placed_week, c.handle_week, c.settled_week, c.profit_week,
                c.open_week, c.exposure_week),
               ('30d', 3, c.month, c.placed_month, c.handle_month, c.settled_month, c.profit_month,
                c.open_month, c.exposure_month)
       ) AS p(period, position, starts_at, bets_placed, handle_minor, bets_settled, house_profit_minor,
              open_bets, open_exposure_minor)
"""

# The last 30 days (UTC), one row per day and currency with any activity (the reader fills in
# the quiet days): one pass over the bets, each counted on its placing day for the handle and
# on its settling day for the house's profit.
DAILY_BOOK = """
CREATE VIEW ops_daily_book AS
SELECT e.day::date::text || ':' || b.currency AS id, e.day::date AS day, b.currency,
       count(*) FILTER (WHERE e.kind = 'placed') AS bets_placed,
       COALESCE(sum(b.stake_minor) FILTER (WHERE e.kind = 'placed'), 0)::bigint AS handle_minor,
       COALESCE(-sum(b.net_profit_minor) FILTER (WHERE e.kind = 'settled'), 0)::bigint AS house_profit_minor
  FROM betting_bet b
 CROSS JOIN LATERAL (
        VALUES ('placed', date_trunc('day', b.placed_at)), ('settled', date_trunc('day', b.settled_at))
       ) AS e(kind, day)
 WHERE (b.placed_at >= date_trunc('day', now()) - interval '29 days'
        OR b.settled_at >= date_trunc('day', now()) - interval '29 days')
   AND e.day >= date_trunc('day', now()) - interval '29 days'
   AND ((e.kind = 'placed' AND b.status <> 'cancelled') OR (e.kind = 'settled' AND b.status IN ('settled', 'void')))
 GROUP BY e.day, b.currency
"""

SIGNUPS_DAILY = """
CREATE VIEW ops_signups_daily AS
SELECT d::date AS day, count(u.id) AS signups
  FROM generate_series(date_trunc('day', now()) - interval '29 days', date_trunc('day', now()),
                       interval '1 day') AS d
  LEFT JOIN users_user u ON u.date_joined >= d AND u.date_joined < d + interval '1 day'
 GROUP BY d
"""

USERS_BY_STATUS = """
CREATE VIEW ops_users_by_status AS
SELECT CASE WHEN u.deleted_at IS NOT NULL THEN 'deleted' ELSE u.status END AS status, count(*) AS users
  FROM users_user u
 GROUP BY 1
"""

BETS_BY_STATUS = """
CREATE VIEW ops_bets_by_status AS
SELECT b.status, count(*) AS bets
  FROM betting_bet b
 GROUP BY b.status
"""

# Settlement lag: from the moment the last event of a bet finished to its settlement, for
# the bets settled in the last 24 hours; and the bets whose events have all finished but that
# are still pending (lag so far). Void bets of cancelled events without a finish time are left out.
SETTLEMENT_LAG = """
CREATE VIEW ops_settlement_lag AS
WITH candidates AS (
    SELECT b.id, b.status, b.settled_at
      FROM betting_bet b
     WHERE b.status = 'pending'
        OR (b.status IN ('settled', 'void') AND b.settled_at >= now() - interval '24 hours')
), finished AS (
    SELECT l.bet_id, max(e.finished_at) AS finished_at, bool_and(e.status IN ('final', 'cancelled')) AS all_done
      FROM betting_betleg l
      JOIN candidates c ON c.id = l.bet_id
      JOIN edges_event e ON e.id = l.event_id
     GROUP BY l.bet_id
)
SELECT c.id AS bet_id, c.status = 'pending' AS is_pending, f.finished_at, c.settled_at,
       EXTRACT(EPOCH FROM COALESCE(c.settled_at, now()) - f.finished_at)::double precision AS lag_seconds
  FROM candidates c
  JOIN finished f ON f.bet_id = c.id
 WHERE f.all_done AND f.finished_at IS NOT NULL
"""

FEED_HEALTH = """
CREATE VIEW ops_feed_health AS
SELECT s.id, s.key, s.title, s.freshness_seconds, s.is_active, q.last_quote_at, COALESCE(q.quotes, 0) AS quotes
  FROM edges_sportsbook s
  LEFT JOIN (
        SELECT sportsbook_id, max(received_at) AS last_quote_at, count(*) AS quotes
          FROM edges_oddsquote GROUP BY sportsbook_id
       ) q ON q.sportsbook_id = s.id
"""

OUTBOX_BACKLOG = """
CREATE VIEW ops_outbox_backlog AS
SELECT o.event_type, count(*) AS pending, min(o.created_at) AS oldest_created_at,
       count(*) FILTER (WHERE o.attempts > 0) AS failing, max(o.attempts) AS max_attempts
  FROM core_outboxevent o
 WHERE o.delivered_at IS NULL
 GROUP BY o.event_type
"""

VIEWS = [
    ("active_edges", ACTIVE_EDGES),
    ("user_bet_stats", USER_BET_STATS),
    ("dashboard_summary", DASHBOARD_SUMMARY),
    ("ops_daily_book", DAILY_BOOK),
    ("ops_signups_daily", SIGNUPS_DAILY),
    ("ops_users_by_status", USERS_BY_STATUS),
    ("ops_bets_by_status", BETS_BY_STATUS),
    ("ops_settlement_lag", SETTLEMENT_LAG),
    ("ops_feed_health", FEED_HEALTH),
    ("ops_outbox_backlog", OUTBOX_BACKLOG),
]


class Migration(migrations.Migration):
    initial = True

    # The latest migration of every app whose tables the views read.
    dependencies = [
        # The latest migration of every app whose tables the views read: PostgreSQL refuses
        # to change a column a view uses, so the views come after every such change.
        ("betting", "0002_bet_safety"),
        ("core", "0001_initial"),
        ("edges", "0003_feed_state"),
        ("users", "0003_preferences_schema_and_token_keys"),
        ("wallet", "0005_adjustments_and_staff_permissions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        *(migrations.RunSQL(sql=create, reverse_sql=f"DROP VIEW IF EXISTS {name}") for name, create in VIEWS),
        # The unmanaged models over the views (state only: Django creates no table for them).
        migrations.CreateModel(
            name='ActiveEdge',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('edge_id', models.CharField(max_length=40)),
                ('kind', models.CharField(max_length=12)),
                ('sport_key', models.CharField(max_length=60)),
                ('event_id', models.BigIntegerField()),
                ('sportsbook_id', models.BigIntegerField(null=True)),
                ('edge_percentage', models.FloatField()),
                ('expected_value_per_dollar', models.FloatField()),
                ('discovered_at', models.DateTimeField()),
                ('stale_after', models.DateTimeField()),
            ],
            options={
                'verbose_name': 'active edge',
                'db_table': 'active_edges',
                'managed': False,
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='BetsByStatus',
            fields=[
                ('status', models.CharField(max_length=10, primary_key=True, serialize=False)),
                ('bets', models.BigIntegerField()),
            ],
            options={
                'db_table': 'ops_bets_by_status',
                'managed': False,
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='DailyBook',
            fields=[
                ('id', models.CharField(max_length=20, primary_key=True, serialize=False)),
                ('day', models.DateField()),
                ('currency', models.CharField(max_length=3)),
                ('bets_placed', models.BigIntegerField()),
                ('handle_minor', models.BigIntegerField()),
                ('house_profit_minor', models.BigIntegerField()),
            ],
            options={
                'db_table': 'ops_daily_book',
                'managed': False,
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='DashboardSummary',
            fields=[
                ('id', models.CharField(max_length=20, primary_key=True, serialize=False)),
                ('period', models.CharField(max_length=8)),
                ('position', models.IntegerField()),
                ('starts_at', models.DateTimeField()),
                ('currency', models.CharField(max_length=3)),
                ('bets_placed', models.BigIntegerField()),
                ('handle_minor', models.BigIntegerField()),
                ('bets_settled', models.BigIntegerField()),
                ('house_profit_minor', models.BigIntegerField()),
                ('open_bets', models.BigIntegerField()),
                ('open_exposure_minor', models.BigIntegerField()),
            ],
            options={
                'verbose_name': 'operations dashboard',
                'verbose_name_plural': 'operations dashboard',
                'db_table': 'dashboard_summary',
                'permissions': [('view_dashboard', 'Can view the operations dashboard')],
                'managed': False,
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='FeedHealth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=40)),
                ('title', models.CharField(max_length=80)),
                ('freshness_seconds', models.IntegerField()),
                ('is_active', models.BooleanField()),
                ('last_quote_at', models.DateTimeField(null=True)),
                ('quotes', models.BigIntegerField()),
            ],
            options={
                'db_table': 'ops_feed_health',
                'managed': False,
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='OutboxBacklog',
            fields=[
                ('event_type', models.CharField(max_length=80, primary_key=True, serialize=False)),
                ('pending', models.BigIntegerField()),
                ('oldest_created_at', models.DateTimeField()),
                ('failing', models.BigIntegerField()),
                ('max_attempts', models.IntegerField()),
            ],
            options={
                'db_table': 'ops_outbox_backlog',
                'managed': False,
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='SettlementLag',
            fields=[
                ('bet_id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('is_pending', models.BooleanField()),
                ('finished_at', models.DateTimeField()),
                ('settled_at', models.DateTimeField(null=True)),
                ('lag_seconds', models.FloatField()),
            ],
            options={
                'db_table': 'ops_settlement_lag',
                'managed': False,
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='SignupsDaily',
            fields=[
                ('day', models.DateField(primary_key=True, serialize=False)),
                ('signups', models.BigIntegerField()),
            ],
            options={
                'db_table': 'ops_signups_daily',
                'managed': False,
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='UserBetStats',
            fields=[
                ('id', models.CharField(max_length=40, primary_key=True, serialize=False)),
                ('currency', models.CharField(max_length=3)),
                ('bets', models.BigIntegerField()),
                ('pending', models.BigIntegerField()),
                ('settled', models.BigIntegerField()),
                ('won', models.BigIntegerField()),
                ('lost', models.BigIntegerField()),
                ('staked_minor', models.BigIntegerField()),
                ('open_stake_minor', models.BigIntegerField()),
                ('open_liability_minor', models.BigIntegerField()),
                ('net_profit_minor', models.BigIntegerField()),
                ('last_bet_at', models.DateTimeField(null=True)),
            ],
            options={
                'verbose_name_plural': 'user bet stats',
                'db_table': 'user_bet_stats',
                'managed': False,
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='UsersByStatus',
            fields=[
                ('status', models.CharField(max_length=24, primary_key=True, serialize=False)),
                ('users', models.BigIntegerField()),
            ],
            options={
                'db_table': 'ops_users_by_status',
                'managed': False,
                'default_permissions': (),
            },
        ),
    ]
