"""Social benchmark: leaderboard recompute beside a bare GROUP BY, and feed reads over HTTP.

1. Leaderboards: USERS public bettors and BETS settled public bets spread over the last
   30 days (with a leg each, as placed bets have). Each of the six boards (7d/30d x roi,
   win_pct, clv) is one INSERT ... SELECT ... RANK() statement; each is timed beside one
   bare `SELECT user_id, count(*), sum(stake), sum(profit) ... GROUP BY user_id` over the
   same rows (same table, same window), measured in the same run. Target: within 3x.
2. Feed: one user following FOLLOWING bettors reads `GET /api/v1/feed/` (20 items, token
   auth) REQUESTS times in a row from one keep-alive client against uvicorn (one process);
   p50 and p99 latency, beside `GET /api/v1/me/` interleaved with it (the same HTTP stack
   doing almost nothing), and the feed selector's own CPU time per read. Target: p99 under
   50 ms.

It runs in a database of its own (bench.common.bench_database), dropped at the end. Reduced
sizes: SOCIAL_BENCH_USERS / SOCIAL_BENCH_BETS / SOCIAL_BENCH_FOLLOWING / SOCIAL_BENCH_REQUESTS,
or BENCH_SIZE=smoke for all of them (the same code path on tiny data, in seconds).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import bench_database, line, percentile, size, start_uvicorn, stop_group

USERS = int(size("SOCIAL_BENCH_USERS", "10000", "60"))
BETS = int(size("SOCIAL_BENCH_BETS", "1000000", "3000"))
FOLLOWING = int(size("SOCIAL_BENCH_FOLLOWING", "1000", "40"))
REQUESTS = int(size("SOCIAL_BENCH_REQUESTS", "500", "20"))
REPEATS = int(size("SOCIAL_BENCH_REPEATS", "3", "1"))


BETS_SQL = """
INSERT INTO betting_bet (created_at, updated_at, user_id, event_id, edge_id, kind, market_type, sport_key,
    currency, stake_minor, odds_decimal, odds_american, potential_return_minor, actual_return_minor,
    net_profit_minor, status, result, sportsbook_id, external_id, placed_at, settled_at, settlement_note,
    clv_percent, clv_note, limits_in_force, idempotency_key)
SELECT r.settled_at, r.settled_at, %(first_user)s + (r.i %% %(users)s), %(event)s, '', 'straight', 'moneyline',
       'americanfootball_nfl', 'USD', r.stake, r.odds, 100, (r.stake * r.odds)::bigint,
       r.stake + r.profit, r.profit, 'settled', r.result, 'draftkings', '', r.settled_at - interval '3 hours',
       r.settled_at, '', r.clv, '', '{}', ''
  FROM (
    SELECT g.i, s.stake, s.odds, s.settled_at, s.result, s.clv,
           CASE s.result WHEN 'win' THEN (s.stake * (s.odds - 1))::bigint WHEN 'loss' THEN -s.stake
                         WHEN 'half_win' THEN (s.stake * (s.odds - 1) / 2)::bigint
                         WHEN 'half_loss' THEN -(s.stake / 2) ELSE 0 END AS profit
      FROM generate_series(1, %(bets)s) AS g(i)
      CROSS JOIN LATERAL (
        SELECT 100 + (random() * 10000)::bigint AS stake,
               round((1.5 + random() * 2)::numeric, 2) AS odds,
               %(now)s - random() * interval '30 days' AS settled_at,
               (ARRAY['win','win','win','win','loss','loss','loss','loss','push','void','half_win','half_loss'])
                   [1 + floor(random() * 12)::int] AS result,
               CASE WHEN random() < 0.8 THEN round(((random() - 0.5) / 10)::numeric, 6) END AS clv,
               g.i AS seed
      ) AS s
  ) AS r
"""

LEGS_SQL = """
INSERT INTO betting_betleg (bet_id, position, event_id, market_id, outcome_id, price_decimal, quote_version,
    leg_type, attributes, result)
SELECT b.id, 0, b.event_id, %(market)s, %(outcome)s, b.odds_decimal, 0, 'straight',
       '{"market_key": "h2h", "outcome_name": "Chiefs", "matchup": "Chargers @ Chiefs"}', b.result
  FROM betting_bet b
"""

PUBLIC_SQL = """
INSERT INTO social_publicbet (bet_id, user_id, visible_from, stake_mode, placed_at, created_at, released_at,
    status, result, stake_minor, currency, net_profit_minor, profit_units, clv_percent, sport_key, settled_at)
SELECT b.id, b.user_id, b.placed_at, 'exact', b.placed_at, b.placed_at, b.placed_at, b.status, b.result,
       b.stake_minor, b.currency, b.net_profit_minor,
       CASE b.result WHEN 'win' THEN b.odds_decimal - 1 WHEN 'loss' THEN -1
                     WHEN 'half_win' THEN (b.odds_decimal - 1) / 2 WHEN 'half_loss' THEN -0.5 ELSE 0 END,
       b.clv_percent, b.sport_key, b.settled_at
  FROM betting_bet b
"""

BASELINE_SQL = """
SELECT user_id, count(*), avg(profit_units)
  FROM social_publicbet
 WHERE status = 'settled' AND settled_at > %(since)s AND settled_at <= %(now)s
 GROUP BY user_id
"""


def load(now) -> tuple[int, list[int]]:
    """USERS public bettors, BETS settled public bets; returns (reader id, bettor ids)."""
    from django.db import connection, transaction

    from betthat.users.models import User
    from edges.models import Event, Market, Outcome, Sport, Sportsbook
    from social.models import Profile

    began = time.perf_counter()
    sport = Sport.objects.create(key="americanfootball_nfl", title="NFL")
    Sportsbook.objects.get_or_create(key="draftkings", defaults={"title": "DraftKings"})
    event = Event.objects.create(
        provider_id="bench", sport=sport, home_team="Chiefs", away_team="Chargers", commence_time=now
    )
    market = Market.objects.create(event=event, key="h2h")
    outcome = Outcome.objects.create(market=market, name="Chiefs")
    with transaction.atomic():
        users = User.objects.bulk_create(
            [
                User(
                    email=f"social-bench-{i}@bench.local",
                    password="!",
                    name=f"bench {i}",
                    external_id=f"usr_bench_{i}",
                    status="active",
                )
                for i in range(USERS + 1)
            ],
            batch_size=2000,
        )
        ids = sorted(u.pk for u in users)
        reader, bettors = ids[-1], ids[:-1]
        assert bettors[-1] - bettors[0] == USERS - 1, "user ids are not contiguous"
        Profile.objects.bulk_create(
            [
                Profile(user_id=pk, handle=f"bettor_{pk}", is_public=True, public_since=now - timedelta(days=60),
                        stake_visibility="exact", live_delay_sec=0)
                for pk in bettors
            ] + [Profile(user_id=reader, handle="reader", is_public=False)],
            batch_size=2000,
        )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            BETS_SQL, {"first_user": bettors[0], "users": USERS, "event": event.pk, "bets": BETS, "now": now}
        )
        cursor.execute(LEGS_SQL, {"market": market.pk, "outcome": outcome.pk})
        cursor.execute(PUBLIC_SQL)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"  loaded {USERS:,} bettors and {BETS:,} settled public bets in {time.perf_counter() - began:,.0f} s"
    )
    return reader, bettors


def timed(func) -> float:
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        func()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def bench_leaderboards(now) -> None:
    from django.db import connection

    from social.services.leaderboards import WINDOWS, leaderboard_recompute_board, leaderboards_recompute

    print(f"leaderboards (median of {REPEATS} runs each; bare GROUP BY over the same rows beside it)")
    ratios = []
    for window, span in WINDOWS.items():

        def bare(span=span):
            with connection.cursor() as cursor:
                cursor.execute(BASELINE_SQL, {"since": now - span, "now": now})
                cursor.fetchall()

        baseline = timed(bare)
        line(f"bare GROUP BY user_id, {window}", baseline, "ms")
        for metric in ("roi", "win_pct", "clv"):
            board = timed(
                lambda window=window, metric=metric: leaderboard_recompute_board(
                    window=window, metric=metric, now=now, min_bets=20
                )
            )
            ratios.append(board / baseline)
            line(
                f"board {window}/{metric} (DELETE + INSERT ... RANK())",
                board,
                "ms",
                target=f"<= 3x bare ({board / baseline:.2f}x)",
                ok=board <= 3 * baseline,
            )
    total = timed(lambda: leaderboards_recompute(now=now))
    line("whole recompute (6 boards, 1 transaction each)", total, "ms")
    print(f"  worst board / bare GROUP BY: {max(ratios):.2f}x")


def start_server(url: str) -> tuple[subprocess.Popen, int]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": url,
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "THROTTLE_USER": "100000000/min",
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "600",
            "HTTP_THREADS": "2",
        }
    )
    return start_uvicorn(env)


def session_cookie(user) -> str:
    """A logged-in session of `user` (stored where the server reads sessions), as a Cookie header."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def bench_feed(url: str, reader: int, bettors: list[int]) -> None:
    import httpx
    from django.db import connection

    from betthat.users.models import User
    from betthat.users.services import user_token_get_or_create
    from social.models import Follow

    Follow.objects.bulk_create([Follow(follower_id=reader, followee_id=pk) for pk in bettors[:FOLLOWING]])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE social_follow")  # as autovacuum would after the follows
    token = user_token_get_or_create(user=User.objects.get(pk=reader))
    session = session_cookie(User.objects.get(pk=reader))
    server, port = start_server(url)
    try:
        with (
            httpx.Client(
                base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Token {token}"}
            ) as http,
            httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Cookie": session}) as browser,
        ):
            first = http.get("/api/v1/feed/")
            assert first.status_code == 200 and len(first.json()["results"]) == 20, first.text[:300]
            page = browser.get("/feed/")
            handle = first.json()["results"][0]["handle"]
            assert page.status_code == 200 and handle in page.text, (page.status_code, page.text[:300])
            for _ in range(30):
                http.get("/api/v1/feed/")
                browser.get("/feed/")
            # Each feed read is followed by a read of /api/v1/me/ (the same stack: token
            # auth, throttle, JSON; one indexed row), so the machine's load of the moment
            # weighs on both alike and the difference is the feed's own cost.
            latencies, stack = [], []
            for _ in range(REQUESTS):
                began = time.perf_counter()
                response = http.get("/api/v1/feed/")
                latencies.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200
                began = time.perf_counter()
                http.get("/api/v1/me/")
                stack.append((time.perf_counter() - began) * 1000)
            # The feed page (session login, the whole template) the same way.
            pages = []
            for _ in range(REQUESTS):
                began = time.perf_counter()
                response = browser.get("/feed/")
                pages.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200
            cursor = first.json()["next_cursor"]
            paged = []
            for _ in range(min(REQUESTS, 200)):
                began = time.perf_counter()
                response = http.get("/api/v1/feed/", params={"cursor": cursor})
                paged.append((time.perf_counter() - began) * 1000)
                cursor = response.json()["next_cursor"] or first.json()["next_cursor"]
    finally:
        stop_group(server)
    from social import selectors

    reader_user = User.objects.get(pk=reader)
    began = time.process_time()
    for _ in range(100):
        selectors.feed_for_user(user=reader_user)
    cpu = (time.process_time() - began) * 10
    print(f"feed over HTTP: one reader following {FOLLOWING:,} bettors, {REQUESTS} sequential reads")
    line("feed selector, Python CPU per read (in process)", cpu, "ms")
    line("GET /api/v1/me/ p50 (the HTTP stack alone, interleaved)", percentile(stack, 50), "ms")
    line("GET /api/v1/me/ p99 (the HTTP stack alone, interleaved)", percentile(stack, 99), "ms")
    line("GET /api/v1/feed/ p50", percentile(latencies, 50), "ms")
    p99 = percentile(latencies, 99)
    line("GET /api/v1/feed/ p99", p99, "ms", target="< 50 ms", ok=p99 < 50)
    line("GET /feed/ (the page) p50", percentile(pages, 50), "ms")
    line(
        "GET /feed/ (the page) p99",
        percentile(pages, 99),
        "ms",
        target="< 50 ms",
        ok=percentile(pages, 99) < 50,
    )
    line("GET /api/v1/feed/?cursor=... (next pages) p99", percentile(paged, 99), "ms", target="< 50 ms",
         ok=percentile(paged, 99) < 50)  # fmt: skip


def main() -> int:
    os.environ["OUTBOX_NUDGE"] = "0"
    with bench_database("social") as url:
        from django.utils import timezone

        now = timezone.now()
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"social bench: {USERS:,} bettors, {BETS:,} settled public bets, feed of {FOLLOWING:,} follows")
        reader, bettors = load(now)
        bench_leaderboards(now)
        bench_feed(url, reader, bettors)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
