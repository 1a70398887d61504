"""Placement's locked part in one PL/pgSQL function, called once (one round trip).

`betting_bet_reserve` does what the reserve transaction did in nine statements, in the same
order and through the same tables, so the database's guards still apply (the balanced-journal
trigger, the append-only entries, the non-negative balance CHECK, the unique Idempotency-Key):

1. lock the user's cash and holds accounts of the currency in pk order (wallet.locks's order),
   creating them (and the currency's system accounts) if missing;
2. lock the user row and read it fresh: active, not soft-deleted, not self-excluded;
3. the limit headroom: stakes of the rolling 24 hours and 30 days in every currency, converted
   into the bet's currency at the rates given (stakes round up, limits round down), against
   the limits in force; with a raise whose cooling-off has passed it returns `limits_due`
   (the caller applies the raises and calls again);
4. the Kelly-sized recommended stake (when the bet comes from an edge) from the cash balance;
5. refuse a key already used by this user's bet, or a stake the cash cannot cover;
6. insert the `placing` bet and its legs (rows given as JSON, ids drawn here);
7. hold the stake: cash -> holds, the BET_PLACED header, its two entries and its
   `wallet.transaction.completed` outbox event (wallet.ledger.book's statement for a hold).

A refusal is returned (`refusal` and `details`), never raised, and comes before any write.
Called outside a transaction it is one statement and its own transaction.
"""

from django.db import migrations

FX_MINOR = """
CREATE OR REPLACE FUNCTION betting_fx_minor(
    p_amount numeric, p_source text, p_target text, p_fx jsonb, p_round_up boolean
) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    -- betting.services.limits.convert_minor: NULL when a rate is missing.
    SELECT CASE
        WHEN p_source = p_target OR p_amount = 0 THEN p_amount::bigint
        WHEN p_round_up THEN ceil(v)::bigint
        ELSE floor(v)::bigint
    END
    FROM (SELECT p_amount::numeric(1000, 40) * (p_fx ->> p_source)::numeric
                 / (p_fx ->> p_target)::numeric AS v) s
$$;
"""

RESERVE = """
CREATE OR REPLACE FUNCTION betting_bet_reserve(
    p_user bigint,
    p_currency text,
    p_stake bigint,
    p_now timestamptz,
    p_day_start timestamptz,
    p_month_start timestamptz,
    p_fx jsonb,
    p_kelly jsonb,
    p_bet jsonb,
    p_legs jsonb,
    p_event jsonb,
    OUT o_refusal text,
    OUT o_details jsonb,
    OUT o_bet_id bigint,
    OUT o_leg_ids bigint[],
    OUT o_transaction_id bigint,
    OUT o_headroom jsonb,
    OUT o_recommended_stake_minor bigint
) LANGUAGE plpgsql AS $$
DECLARE
    v_account record;
    v_cash_id bigint;
    v_cash bigint;
    v_holds_id bigint;
    v_user record;
    v_sum record;
    v_part_month bigint;
    v_part_day bigint;
    v_staked_month bigint := 0;
    v_staked_day bigint := 0;
    v_max bigint;
    v_daily bigint;
    v_monthly bigint;
    v_daily_left bigint;
    v_monthly_left bigint;
    v_cap bigint;
    v_fraction numeric;
    v_key text := coalesce(p_bet ->> 'idempotency_key', '');
BEGIN
    -- 1. The wallet lock (wallet.locks.lock_user_accounts).
    FOR v_attempt IN 1..2 LOOP
        FOR v_account IN
            SELECT a.id, a.kind, a.balance_minor FROM wallet_account a
             WHERE a.user_id = p_user AND a.currency = p_currency AND a.kind IN ('cash', 'holds')
             ORDER BY a.id FOR UPDATE
        LOOP
            IF v_account.kind = 'cash' THEN
                v_cash_id := v_account.id;
                v_cash := v_account.balance_minor;
            ELSE
                v_holds_id := v_account.id;
            END IF;
        END LOOP;
        EXIT WHEN v_cash_id IS NOT NULL AND v_holds_id IS NOT NULL;
        -- wallet.locks.ensure_accounts
        INSERT INTO wallet_account (user_id, kind, currency, balance_minor, status, created_at, updated_at)
        SELECT p_user, k, p_currency, 0, 'active', now(), now() FROM unnest(ARRAY['cash', 'holds']) AS k
        ON CONFLICT (user_id, kind, currency) WHERE user_id IS NOT NULL DO NOTHING;
        INSERT INTO wallet_account (user_id, kind, currency, balance_minor, status, created_at, updated_at)
        SELECT NULL, k, p_currency, 0, 'active', now(), now()
          FROM unnest(ARRAY['psp_clearing', 'house', 'fees']) AS k
        ON CONFLICT (kind, currency) WHERE user_id IS NULL DO NOTHING;
    END LOOP;
    IF v_cash_id IS NULL OR v_holds_id IS NULL THEN
        RAISE EXCEPTION 'could not create the wallet accounts of user %', p_user;
    END IF;

    -- 2. The user row, locked and fresh (placement.check_account).
    SELECT u.is_active, u.status, u.self_excluded_until, u.risk_tolerance, u.max_kelly_fraction,
           u.max_bet_size, u.max_bet_size_currency, u.daily_bet_limit, u.daily_bet_limit_currency,
           u.monthly_bet_limit, u.monthly_bet_limit_currency
      INTO v_user
      FROM users_user u
     WHERE u.id = p_user AND u.deleted_at IS NULL
       FOR UPDATE;
    IF NOT FOUND OR NOT v_user.is_active OR v_user.status <> 'active' THEN
        o_refusal := 'account_suspended';
        RETURN;
    END IF;
    IF v_user.self_excluded_until IS NOT NULL AND v_user.self_excluded_until > p_now THEN
        o_refusal := 'self_excluded';
        o_details := jsonb_build_object('until', v_user.self_excluded_until);
        RETURN;
    END IF;

    -- 3. The limit headroom (limits.limit_headroom, check_limits).
    IF EXISTS (SELECT 1 FROM betting_limitchange c
                WHERE c.user_id = p_user AND c.applied_at IS NULL AND c.cancelled_at IS NULL
                  AND c.effective_at <= p_now) THEN
        o_refusal := 'limits_due';
        RETURN;
    END IF;
    FOR v_sum IN
        SELECT b.currency, sum(b.stake_minor) AS month,
               coalesce(sum(b.stake_minor) FILTER (WHERE b.placed_at >= p_day_start), 0) AS day
          FROM betting_bet b
         WHERE b.user_id = p_user AND b.placed_at >= p_month_start
           AND b.status NOT IN ('cancelled', 'rejected')
         GROUP BY b.currency
    LOOP
        v_part_month := betting_fx_minor(v_sum.month, v_sum.currency, p_currency, p_fx, true);
        v_part_day := betting_fx_minor(v_sum.day, v_sum.currency, p_currency, p_fx, true);
        IF v_part_month IS NULL OR v_part_day IS NULL THEN
            o_refusal := 'no_rate';
            o_details := jsonb_build_object(
                'currency', CASE WHEN p_fx ? v_sum.currency THEN p_currency ELSE v_sum.currency END);
            RETURN;
        END IF;
        v_staked_month := v_staked_month + v_part_month;
        v_staked_day := v_staked_day + v_part_day;
    END LOOP;
    v_max := betting_fx_minor(v_user.max_bet_size * 100, v_user.max_bet_size_currency, p_currency, p_fx, false);
    v_daily := betting_fx_minor(
        v_user.daily_bet_limit * 100, v_user.daily_bet_limit_currency, p_currency, p_fx, false);
    v_monthly := betting_fx_minor(
        v_user.monthly_bet_limit * 100, v_user.monthly_bet_limit_currency, p_currency, p_fx, false);
    IF v_max IS NULL OR v_daily IS NULL OR v_monthly IS NULL THEN
        o_refusal := 'no_rate';
        o_details := jsonb_build_object('currency', CASE
            WHEN v_max IS NULL AND NOT p_fx ? v_user.max_bet_size_currency THEN v_user.max_bet_size_currency
            WHEN v_max IS NULL THEN p_currency
            WHEN v_daily IS NULL AND NOT p_fx ? v_user.daily_bet_limit_currency THEN v_user.daily_bet_limit_currency
            WHEN v_daily IS NULL THEN p_currency
            WHEN NOT p_fx ? v_user.monthly_bet_limit_currency THEN v_user.monthly_bet_limit_currency
            ELSE p_currency END);
        RETURN;
    END IF;
    v_daily_left := greatest(0, v_daily - v_staked_day);
    v_monthly_left := greatest(0, v_monthly - v_staked_month);
    v_cap := least(v_max, v_daily_left, v_monthly_left);
    o_headroom := jsonb_build_object(
        'currency', p_currency,
        'max_bet_minor', v_max,
        'daily_limit_minor', v_daily,
        'monthly_limit_minor', v_monthly,
        'staked_today_minor', v_staked_day,
        'staked_month_minor', v_staked_month,
        'daily_remaining_minor', v_daily_left,
        'monthly_remaining_minor', v_monthly_left,
        'stake_cap_minor', v_cap);
    IF p_stake > v_max OR p_stake > v_daily_left OR p_stake > v_monthly_left THEN
        o_refusal := 'limit_exceeded';
        RETURN;
    END IF;

    -- 4. Kelly sizing (edges.pricing.recommended_stake_minor): p_kelly is, per risk
    -- tolerance, the edge's Kelly fraction times the tolerance's multiplier ({} for none).
    IF p_kelly IS NOT NULL THEN
        IF v_cash <= 0 OR p_kelly = '{}'::jsonb THEN
            o_recommended_stake_minor := 0;
        ELSE
            v_fraction := least(
                coalesce(p_kelly ->> v_user.risk_tolerance, p_kelly ->> 'medium')::numeric,
                v_user.max_kelly_fraction);
            o_recommended_stake_minor := greatest(0, least(floor(v_cash * v_fraction)::bigint, v_cap));
        END IF;
    END IF;

    -- 5. Refusals that come before any write.
    IF v_key <> '' AND EXISTS (SELECT 1 FROM betting_bet b WHERE b.user_id = p_user AND b.idempotency_key = v_key) THEN
        o_refusal := 'idempotency_conflict';
        RETURN;
    END IF;
    IF v_cash < p_stake THEN
        o_refusal := 'insufficient_funds';
        o_details := jsonb_build_object('available_minor', v_cash);
        RETURN;
    END IF;

    -- 6. The bet and its legs.
    o_bet_id := nextval(pg_get_serial_sequence('betting_bet', 'id'));
    INSERT INTO betting_bet
    SELECT r.* FROM jsonb_populate_record(NULL::betting_bet, p_bet || jsonb_build_object(
        'id', o_bet_id, 'limits_in_force', o_headroom,
        'recommended_stake_minor', o_recommended_stake_minor)) r;
    WITH legs AS (
        INSERT INTO betting_betleg
        SELECT r.*
          FROM jsonb_array_elements(p_legs) WITH ORDINALITY AS e(leg, ord),
               LATERAL jsonb_populate_record(NULL::betting_betleg, e.leg || jsonb_build_object(
                   'id', nextval(pg_get_serial_sequence('betting_betleg', 'id')), 'bet_id', o_bet_id)) r
         ORDER BY e.ord
        RETURNING id, position
    )
    SELECT array_agg(id ORDER BY position) INTO o_leg_ids FROM legs;

    -- 7. The hold: cash -> holds, the header, its entries and its outbox event.
    UPDATE wallet_account a
       SET balance_minor = a.balance_minor + CASE WHEN a.id = v_cash_id THEN -p_stake ELSE p_stake END,
           updated_at = p_now
     WHERE a.id IN (v_cash_id, v_holds_id);
    INSERT INTO wallet_transaction (
        user_id, currency, created_at, updated_at, type, status, amount_minor, fee_minor, bet_id,
        payment_id, sportsbook_id, processing_attempts, last_error, external_reference,
        idempotency_key, reason, created_by_id, completed_at)
    VALUES (p_user, p_currency, p_now, p_now, 'BET_PLACED', 'completed', p_stake, 0, o_bet_id,
            NULL, p_bet ->> 'sportsbook_id', 0, '', '', '', '', p_user, p_now)
    RETURNING id INTO o_transaction_id;
    INSERT INTO wallet_ledgerentry (transaction_id, account_id, amount_minor, entry_type, ref_type, ref_id, created_at)
    VALUES (o_transaction_id, v_cash_id, -p_stake, 'HOLD', 'bet', o_bet_id::text, p_now),
           (o_transaction_id, v_holds_id, p_stake, 'HOLD', 'bet', o_bet_id::text, p_now);
    INSERT INTO core_outboxevent (event_id, event_type, payload, created_at, delivered_at, attempts, last_error)
    VALUES (gen_random_uuid(), 'wallet.transaction.completed',
            p_event || jsonb_build_object('bet_id', o_bet_id, 'transaction_id', o_transaction_id),
            p_now, NULL, 0, '');
END;
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS betting_bet_reserve(
    bigint, text, bigint, timestamptz, timestamptz, timestamptz, jsonb, jsonb, jsonb, jsonb, jsonb);
DROP FUNCTION IF EXISTS betting_fx_minor(numeric, text, text, jsonb, boolean);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("betting", "0002_bet_safety"),
        ("wallet", "0005_adjustments_and_staff_permissions"),
        ("users", "0003_preferences_schema_and_token_keys"),
        ("core", "0001_initial"),
    ]

    operations = [migrations.RunSQL(FX_MINOR + RESERVE, DROP)]
