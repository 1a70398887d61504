"""The house cannot be gamed and the limits cannot be walked around (issue 8, betting side).

Each test here failed on the code before the fix it guards."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from betthat.core.errors import ApplicationError
from betthat.users.models import User
from betting.models import Bet, SameGameQuote
from betting.services import bet_cancel, user_limits_update
from edges.models import OddsQuote
from tests.betting.factories import make_game, same_game_quote
from tests.betting.helpers import leg, place, state
from tests.factories import UserFactory
from tests.wallet.factories import fund_user

pytestmark = pytest.mark.django_db


def refused(user, code, *legs, **kwargs):
    before = state(user)
    with pytest.raises(ApplicationError) as error:
        place(user, *legs, **kwargs)
    assert error.value.code == code, error.value.message
    assert state(user) == before
    return error.value


# --- 3e: the verification table holds at placement -----------------------------------------


def test_an_unverified_account_cannot_bet(game):
    user = UserFactory()
    fund_user(user, 10_000)  # funded while verified; then the level drops (e.g. an email change)
    User.objects.filter(pk=user.pk).update(verification_level=0)
    user.refresh_from_db()
    error = refused(user, "verification_required", leg(game.o("home_ml")))
    assert error.status == 403 and error.details["action"] == "bet"


# --- 6: limits count every currency, and the window ignores later time-zone changes --------


def test_the_daily_limit_counts_stakes_in_every_currency(settings, game):
    settings.BETTING_FX_RATES = {"USD": "1.00", "EUR": "1.00", "GBP": "1.00"}
    user = UserFactory()
    fund_user(user, 100_000)
    fund_user(user, 100_000, currency="EUR")
    user_limits_update(user=user, limits={"daily_bet_limit": 1000})
    place(user, leg(game.o("home_ml")), stake=1000)  # USD: the whole daily limit
    with pytest.raises(ApplicationError) as error:
        place(user, leg(game.o("over")), stake=1000, currency="EUR")
    assert error.value.code == "limit_exceeded" and error.value.details["limit"] == "daily_bet_limit"


def test_stakes_in_another_currency_count_at_the_configured_rate(settings, game):
    settings.BETTING_FX_RATES = {"USD": "1.00", "EUR": "2.00", "GBP": "1.00"}
    user = UserFactory()
    fund_user(user, 100_000)
    fund_user(user, 100_000, currency="EUR")
    user_limits_update(user=user, limits={"daily_bet_limit": 3000})  # 30.00 USD
    place(user, leg(game.o("home_ml")), stake=1000, currency="EUR")  # 10 EUR = 20 USD
    from betting.services import limit_headroom

    headroom = limit_headroom(user=user, currency="USD")
    assert headroom.staked_today_minor == 2000 and headroom.daily_remaining_minor == 1000
    eur = limit_headroom(user=user, currency="EUR")
    assert eur.daily_limit_minor == 1500 and eur.daily_remaining_minor == 500


def test_changing_the_time_zone_does_not_reset_the_daily_window(funded_user, game):
    funded_user.timezone = "Pacific/Kiritimati"  # UTC+14
    funded_user.save()
    user_limits_update(user=funded_user, limits={"daily_bet_limit": 1000})
    placed = place(funded_user, leg(game.o("home_ml")), stake=1000)
    # 23 hours ago is "yesterday" in most zones at any moment: switching to one of them used
    # to reset the daily window. In a rolling 24-hour window the bet counts in every zone.
    Bet.objects.filter(pk=placed.pk).update(placed_at=timezone.now() - timedelta(hours=23))
    for zone in ("Pacific/Pago_Pago", "UTC", "Asia/Tokyo", "Pacific/Kiritimati"):
        funded_user.timezone = zone
        funded_user.save()
        refused(funded_user, "limit_exceeded", leg(game.o("over")), stake=1000)


def test_limits_and_self_exclusion_are_read_fresh_at_placement(funded_user, game):
    from betthat.users.models import User

    stale = User.objects.get(pk=funded_user.pk)  # a copy loaded before the changes
    User.objects.filter(pk=funded_user.pk).update(daily_bet_limit=Decimal("5.00"))
    error = refused(stale, "limit_exceeded", leg(game.o("home_ml")), stake=1000)
    assert error.details["daily_limit_minor"] == 500
    User.objects.filter(pk=funded_user.pk).update(
        daily_bet_limit=Decimal("1000.00"), self_excluded_until=timezone.now() + timedelta(days=1)
    )
    refused(stale, "self_excluded", leg(game.o("home_ml")), stake=100)


# --- 7: the house cannot be gamed ------------------------------------------------------------


def test_a_quote_older_than_its_books_freshness_is_refused(funded_user, game):
    OddsQuote.objects.filter(outcome=game.o("home_ml"), sportsbook__key="draftkings").update(
        last_update=timezone.now() - timedelta(seconds=91)  # the book's freshness is 90 s
    )
    error = refused(funded_user, "stale_price", leg(game.o("home_ml")))
    assert error.status == 409 and error.details["outcome_id"] == game.o("home_ml").pk


@pytest.mark.parametrize("age_seconds", [91, 3600])
def test_a_stale_same_game_parlay_price_is_refused(funded_user, game, age_seconds):
    """Issue 18 item 5: the venue's same-game price goes stale like any quote (on the old
    code a same-game price an hour old was taken, every leg's quote being fresh)."""
    sgp = same_game_quote(game, ["home_ml", "over"], price="3.60")
    SameGameQuote.objects.filter(pk=sgp.pk).update(updated_at=timezone.now() - timedelta(seconds=age_seconds))
    error = refused(funded_user, "stale_price", leg(game.o("home_ml")), leg(game.o("over")))
    assert error.status == 409
    assert error.details["event_id"] == game.event.pk
    assert sorted(error.details["outcome_ids"]) == sorted([game.o("home_ml").pk, game.o("over").pk])
    assert error.details["freshness_seconds"] == 90 and error.details["age_seconds"] >= age_seconds


def test_a_fresh_same_game_parlay_price_is_taken(funded_user, game):
    same_game_quote(game, ["home_ml", "over"], price="3.60")
    SameGameQuote.objects.update(updated_at=timezone.now() - timedelta(seconds=89))
    bet = place(funded_user, leg(game.o("home_ml")), leg(game.o("over")))
    assert (bet.kind, bet.odds_decimal) == ("same_game", Decimal("3.60"))


def test_a_stale_leg_inside_a_same_game_parlay_is_refused(funded_user, game):
    """Every leg's quote, not only the first, and not only of straight bets."""
    same_game_quote(game, ["home_ml", "over"], price="3.60")
    OddsQuote.objects.filter(outcome=game.o("over"), sportsbook__key="draftkings").update(
        last_update=timezone.now() - timedelta(seconds=91)
    )
    error = refused(funded_user, "stale_price", leg(game.o("home_ml")), leg(game.o("over")))
    assert error.details["outcome_id"] == game.o("over").pk


def test_a_pending_bet_cannot_be_cancelled_after_the_grace_period(funded_user, game, settings):
    settings.BETTING_CANCEL_GRACE_SECONDS = 60
    bet = place(funded_user, leg(game.o("home_ml")))
    Bet.objects.filter(pk=bet.pk).update(placed_at=timezone.now() - timedelta(seconds=61))
    before = state(funded_user)
    with pytest.raises(ApplicationError) as error:
        bet_cancel(user=funded_user, bet_id=bet.pk)
    assert error.value.code == "not_cancellable" and error.value.status == 409
    assert state(funded_user) == before and Bet.objects.get(pk=bet.pk).status == "pending"


class VenueThatVoidedEverything:
    """A venue that reports every ticket void on its side (the venue confirms)."""

    def execute(self, ticket):
        from betting.venues import Execution

        return Execution(True, external_id=f"void-{ticket.bet_id}", price_decimal=ticket.price_decimal)

    def can_cancel(self, *, sportsbook, external_id):
        return True

    def cancel(self, *, sportsbook, external_id):
        return True

    def is_void(self, *, sportsbook, external_id):
        return True


def test_after_the_grace_period_a_venue_confirmed_void_is_refunded(funded_user, game, settings):
    settings.BETTING_VENUE = "tests.betting.test_security.VenueThatVoidedEverything"
    bet = place(funded_user, leg(game.o("home_ml")))
    Bet.objects.filter(pk=bet.pk).update(placed_at=timezone.now() - timedelta(hours=1))
    assert bet_cancel(user=funded_user, bet_id=bet.pk).status == "cancelled"


def test_the_potential_return_is_capped(funded_user, game, settings):
    settings.BETTING_MAX_PAYOUT_MINOR = 2000
    error = refused(funded_user, "max_payout_exceeded", leg(game.o("home_ml")), stake=1000)  # 22.00
    assert error.details["max_payout_minor"] == 2000 and error.details["potential_return_minor"] == 2200
    place(funded_user, leg(game.o("home_ml")), stake=900)  # 19.80


def test_a_price_above_the_maximum_is_refused(funded_user, game, settings):
    settings.BETTING_MAX_PRICE_DECIMAL = "2.00"
    error = refused(funded_user, "max_price_exceeded", leg(game.o("home_ml")))  # 2.20
    assert error.status == 409


def test_american_odds_do_not_overflow_their_column(funded_user, game):
    bet = place(funded_user, leg(game.o("home_ml")))
    Bet.objects.filter(pk=bet.pk).update(odds_american=100_000_000_000)  # 1,000,000,001.0 decimal
    assert Bet.objects.get(pk=bet.pk).odds_american == 100_000_000_000


def test_one_unsettleable_bet_never_blocks_its_batch(funded_user, game):
    from betting.services import settle_due_bets
    from edges.models import Event
    from edges.services import event_record_result

    bets = [place(funded_user, leg(game.o("home_ml")), stake=1000) for _ in range(3)]
    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now() - timedelta(hours=3))
    event_record_result(event_id=game.event.pk, home_score=27, away_score=20)
    from betting.services import bet_legs_grade_event

    bet_legs_grade_event(event_id=game.event.pk)
    bets[1].legs.update(result="garbage")  # a leg no grading rule can settle
    assert settle_due_bets() == 2
    statuses = {b.pk: Bet.objects.get(pk=b.pk).status for b in bets}
    assert statuses == {bets[0].pk: "settled", bets[1].pk: "pending", bets[2].pk: "settled"}
    stuck = Bet.objects.get(pk=bets[1].pk)
    assert stuck.settlement_failed_at is not None and "garbage" in stuck.settlement_error
    # the next run does not stumble on it again
    assert settle_due_bets() == 0


# --- 8: staff actions need their own permissions and never touch their own bets ------------


def test_staff_cannot_settle_or_void_their_own_bets(game):
    from betting.services import bet_settle, bet_void

    staff = UserFactory(is_staff=True, is_superuser=True)
    fund_user(staff, 10_000)
    bet = place(staff, leg(game.o("home_ml")))
    for action in (
        lambda: bet_settle(bet_id=bet.pk, result="win", staff=staff, reason="mine"),
        lambda: bet_void(bet_id=bet.pk, staff=staff, reason="mine"),
    ):
        with pytest.raises(ApplicationError) as error:
            action()
        assert error.value.code == "own_bet" and error.value.status == 403
    assert Bet.objects.get(pk=bet.pk).status == "pending"


def test_settling_needs_the_settle_permission_not_just_change(funded_user, game):
    from django.contrib.auth.models import Permission

    from betting.services import bet_settle, bet_void

    bet = place(funded_user, leg(game.o("home_ml")))
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="change_bet"))
    staff = type(staff).objects.get(pk=staff.pk)
    with pytest.raises(ApplicationError) as error:
        bet_settle(bet_id=bet.pk, result="win", staff=staff, reason="by hand")
    assert error.value.code == "permission_denied" and error.value.status == 403
    with pytest.raises(ApplicationError):
        bet_void(bet_id=bet.pk, staff=staff, reason="by hand")
    assert Bet.objects.get(pk=bet.pk).status == "pending"


def test_staff_settle_void_and_rebuild_are_audited(funded_user, game, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Permission
    from django.test import Client

    from betthat.core.audit import audit_read

    first = place(funded_user, leg(game.o("home_ml")))
    second = place(funded_user, leg(game.o("over")))
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_bet", "settle_bet", "void_bet", "rebuild_exposure"])
    )
    browser = Client()
    browser.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(f"/admin/betting/bet/{first.pk}/settle/", {"result": "void", "reason": "Duplicate"})
        browser.post(f"/admin/betting/bet/{second.pk}/settle/", {"result": "win", "reason": "Graded"})
        browser.post("/admin/betting/bet/exposure/", {"rebuild": "1"})
    assert Bet.objects.get(pk=first.pk).status == "void"
    assert Bet.objects.get(pk=second.pk).result == "win"
    # the stream is shared with other staff actions (users, limits): read only what this test wrote
    actions = [(r.get("action"), r.get("staff_id"), r.get("bet_id")) for r in audit_read("staff")]
    assert ("bet.void", staff.pk, first.pk) in actions
    assert ("bet.settle", staff.pk, second.pk) in actions
    assert ("exposure.rebuild", staff.pk, None) in actions


def test_exposure_rebuild_needs_its_permission(funded_user):
    from django.contrib.auth.models import Permission
    from django.test import Client

    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_bet"))
    browser = Client()
    browser.force_login(staff)
    response = browser.post("/admin/betting/bet/exposure/", {"rebuild": "1"})
    assert response.status_code == 403


# --- 10: the venue is called with no account row locked ------------------------------------


def _rows_are_free(user_id: int, bet_id: int | None = None) -> bool:
    """From another connection: can the user's wallet accounts (and the bet) be locked now?"""
    import threading

    from django.db import OperationalError, transaction

    from wallet.models import Account

    answer: list[bool] = []

    def probe() -> None:
        try:
            with transaction.atomic():
                list(Account.objects.select_for_update(nowait=True).filter(user_id=user_id))
                if bet_id is not None:
                    list(Bet.objects.select_for_update(nowait=True).filter(pk=bet_id))
            answer.append(True)
        except OperationalError:
            answer.append(False)
        finally:
            connection.close()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return answer == [True]


class ProbingVenue:
    """A slow venue: while it "works" it checks whether the bettor's rows are locked."""

    seen: list[bool] = []

    def execute(self, ticket):
        from betting.venues import Execution

        ProbingVenue.seen.append(_rows_are_free(ticket.user_id))
        return Execution(True, external_id=f"probe-{ticket.bet_id}", price_decimal=ticket.price_decimal)

    def can_cancel(self, *, sportsbook, external_id):
        return True

    def cancel(self, *, sportsbook, external_id):
        bet = Bet.objects.get(external_id=external_id)
        ProbingVenue.seen.append(_rows_are_free(bet.user_id, bet.pk))
        return True

    def is_void(self, *, sportsbook, external_id):
        return False


class FailingVenue:
    def execute(self, ticket):
        raise ConnectionError("venue timed out")

    def can_cancel(self, *, sportsbook, external_id):
        return True

    def cancel(self, *, sportsbook, external_id):
        raise ConnectionError("venue timed out")

    def is_void(self, *, sportsbook, external_id):
        return False


@pytest.mark.django_db(transaction=True)
def test_the_venue_fills_and_cancels_while_no_row_is_locked(settings):
    settings.BETTING_VENUE = "tests.betting.test_security.ProbingVenue"
    ProbingVenue.seen = []
    user = UserFactory()
    fund_user(user, 10_000)
    game = make_game()
    bet = place(user, leg(game.o("home_ml")), stake=1000)
    assert ProbingVenue.seen == [True]
    bet.refresh_from_db()
    assert bet.status == "pending" and bet.external_id == f"probe-{bet.pk}"
    assert bet_cancel(user=user, bet_id=bet.pk).status == "cancelled"
    assert ProbingVenue.seen == [True, True]


@pytest.mark.django_db(transaction=True)
def test_a_failing_venue_leaves_the_ledger_and_the_venue_agreeing(settings):
    from tests.betting.helpers import ledger_clean
    from wallet.selectors import wallet_balances_for_user

    settings.BETTING_VENUE = "tests.betting.test_security.FailingVenue"
    user = UserFactory()
    fund_user(user, 10_000)
    game = make_game()
    with pytest.raises(ApplicationError) as error:
        place(user, leg(game.o("home_ml")), stake=1000)
    assert error.value.code == "venue_unavailable" and error.value.status == 503
    balances = wallet_balances_for_user(user=user, currency="USD")
    assert (balances.available_minor, balances.held_minor) == (10_000, 0)
    assert not Bet.objects.filter(user=user, status="pending").exists()
    assert "ledger_check passed" in ledger_clean()


@pytest.mark.django_db(transaction=True)
def test_a_failing_venue_cancel_changes_nothing(settings):
    user = UserFactory()
    fund_user(user, 10_000)
    game = make_game()
    bet = place(user, leg(game.o("home_ml")), stake=1000)
    settings.BETTING_VENUE = "tests.betting.test_security.FailingVenue"
    before = state(user)
    with pytest.raises(ApplicationError) as error:
        bet_cancel(user=user, bet_id=bet.pk)
    assert error.value.code == "venue_unavailable"
    assert state(user) == before and Bet.objects.get(pk=bet.pk).status == "pending"


def test_staff_void_a_bet_left_placing_and_the_stake_goes_back(funded_user, game, staff_user):
    from betting.services import bet_settle, bet_void
    from wallet.selectors import wallet_balances_for_user

    bet = place(funded_user, leg(game.o("home_ml")), stake=1000)
    Bet.objects.filter(pk=bet.pk).update(status="placing")  # its process died mid venue call
    with pytest.raises(ApplicationError):
        bet_settle(bet_id=bet.pk, result="win", staff=staff_user, reason="no")
    assert bet_void(bet_id=bet.pk, staff=staff_user, reason="Not filled at the venue").status == "void"
    balances = wallet_balances_for_user(user=funded_user, currency="USD")
    assert (balances.available_minor, balances.held_minor) == (100_000, 0)


# --- issue 18 item 8: a staff "win" pays an accomplice only with a second approver ---------


def _settler(*extra: str):
    from django.contrib.auth.models import Permission

    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["settle_bet", *extra]))
    return type(staff).objects.get(pk=staff.pk)


def test_a_manual_win_above_the_threshold_waits_for_a_second_staff_member(
    funded_user, game, settings, django_capture_on_commit_callbacks
):
    from betthat.core.audit import audit_read
    from betting.models import ManualSettlement
    from betting.services import bet_settle, manual_settlement_approve
    from wallet.selectors import wallet_balances_for_user

    settings.WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR = 1_000
    bet = place(funded_user, leg(game.o("home_ml")), stake=1_000)  # wins 2.20: 12.00 winnings
    first, second = _settler(), _settler()
    before = wallet_balances_for_user(user=funded_user)
    with django_capture_on_commit_callbacks(execute=True):
        returned = bet_settle(bet_id=bet.pk, result="win", staff=first, reason="phoned the book")
    assert returned.status == "pending" and Bet.objects.get(pk=bet.pk).status == "pending"
    assert wallet_balances_for_user(user=funded_user) == before
    request = ManualSettlement.objects.get(bet=bet)
    assert (request.status, request.approval_reason, request.winnings_minor) == ("pending", "amount", 1_200)
    assert audit_read("staff")[-1]["action"] == "bet.settle_requested"
    with pytest.raises(ApplicationError) as refused:
        manual_settlement_approve(settlement_id=request.pk, staff=first)
    assert refused.value.code == "second_approver_required"
    assert Bet.objects.get(pk=bet.pk).status == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        settled = manual_settlement_approve(settlement_id=request.pk, staff=second)
    assert (settled.status, settled.result, settled.actual_return_minor) == ("settled", "win", 2_200)
    assert wallet_balances_for_user(user=funded_user).available_minor == before.available_minor + 2_200
    assert audit_read("staff")[-1]["action"] == "bet.settle_approved"
    with pytest.raises(ApplicationError) as twice:
        manual_settlement_approve(settlement_id=request.pk, staff=second)
    assert twice.value.code == "conflict"


def test_a_rejected_manual_settlement_leaves_the_bet_pending_and_moves_nothing(
    funded_user, game, settings, django_capture_on_commit_callbacks
):
    from betthat.core.audit import audit_read
    from betting.models import ManualSettlement
    from betting.services import bet_settle, manual_settlement_approve, manual_settlement_reject
    from wallet.selectors import wallet_balances_for_user

    settings.WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR = 1_000
    bet = place(funded_user, leg(game.o("home_ml")), stake=1_000)
    first, second = _settler(), _settler()
    bet_settle(bet_id=bet.pk, result="win", staff=first, reason="phoned the book")
    request = ManualSettlement.objects.get(bet=bet)
    before = wallet_balances_for_user(user=funded_user)
    with pytest.raises(ApplicationError) as own:
        manual_settlement_reject(settlement_id=request.pk, staff=first)
    assert (own.value.code, own.value.status) == ("second_approver_required", 403)
    with pytest.raises(ApplicationError) as unpermitted:
        manual_settlement_reject(settlement_id=request.pk, staff=UserFactory(is_staff=True))
    assert (unpermitted.value.code, unpermitted.value.status) == ("permission_denied", 403)
    with django_capture_on_commit_callbacks(execute=True):
        rejected = manual_settlement_reject(settlement_id=request.pk, staff=second)
    request.refresh_from_db()
    assert (rejected.status, request.status, request.decided_by_id) == ("rejected", "rejected", second.pk)
    assert request.decided_at is not None
    assert Bet.objects.get(pk=bet.pk).status == "pending"
    assert wallet_balances_for_user(user=funded_user) == before
    assert audit_read("staff")[-1]["action"] == "bet.settle_rejected"
    for decide in (manual_settlement_approve, manual_settlement_reject):
        with pytest.raises(ApplicationError) as decided:
            decide(settlement_id=request.pk, staff=second)
        assert (decided.value.code, decided.value.status, decided.value.details) == (
            "conflict",
            409,
            {"status": "rejected"},
        )
    missing = request.pk + 1_000
    with pytest.raises(ApplicationError) as absent:
        manual_settlement_approve(settlement_id=missing, staff=second)
    assert (absent.value.code, absent.value.status, absent.value.details) == (
        "not_found",
        404,
        {"manual_settlement_id": missing},
    )
    assert Bet.objects.get(pk=bet.pk).status == "pending"
    assert wallet_balances_for_user(user=funded_user) == before


def test_small_manual_wins_count_in_the_rolling_totals_with_adjustments(funded_user, game, settings):
    from betting.models import ManualSettlement
    from betting.services import bet_settle
    from wallet.services import wallet_adjust

    settings.WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR = 1_000
    staff = _settler("adjust_account")
    small = place(funded_user, leg(game.o("home_ml")), stake=500)  # 6.00 winnings: under 10.00
    assert bet_settle(bet_id=small.pk, result="win", staff=staff, reason="ok").status == "settled"
    # 6.00 granted to this account: a 5.00 adjustment by anyone now needs a second approver...
    pending = wallet_adjust(
        user=funded_user, amount_minor=500, reason="bonus", staff=_settler("adjust_account")
    )
    assert (pending.status, pending.approval_reason) == ("pending", "account_total")
    # ...and so does the same staff member's next small win, for anyone.
    other = UserFactory()
    fund_user(other, 10_000)
    next_bet = place(other, leg(game.o("home_ml")), stake=500)
    assert bet_settle(bet_id=next_bet.pk, result="win", staff=staff, reason="again").status == "pending"
    assert ManualSettlement.objects.get(bet=next_bet).approval_reason == "staff_total"
    # A loss pays nothing and needs nobody.
    lost = place(other, leg(game.o("home_ml")), stake=500)
    assert bet_settle(bet_id=lost.pk, result="loss", staff=staff, reason="lost").status == "settled"


def test_the_admin_queues_a_big_manual_win_and_a_colleague_approves_it(funded_user, game, settings):
    from django.test import Client

    from betting.models import ManualSettlement

    settings.WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR = 1_000
    bet = place(funded_user, leg(game.o("home_ml")), stake=1_000)
    first, second = _settler("view_bet"), _settler("view_bet")
    browsers = {}
    for member in (first, second):
        browsers[member.pk] = Client()
        browsers[member.pk].force_login(member)
    asked = browsers[first.pk].post(
        f"/admin/betting/bet/{bet.pk}/settle/", {"result": "win", "reason": "Graded"}
    )
    assert asked.status_code == 302 and asked["Location"] == "/admin/betting/manualsettlement/"
    waiting = ManualSettlement.objects.get(bet=bet)
    changelist = "/admin/betting/manualsettlement/"
    assert browsers[first.pk].get(changelist).status_code == 200
    own = browsers[first.pk].post(
        changelist, {"action": "approve", "_selected_action": [waiting.pk]}, follow=True
    )
    assert (Bet.objects.get(pk=bet.pk).status, ManualSettlement.objects.get(pk=waiting.pk).status) == (
        "pending",
        "pending",
    )
    assert [(m.level_tag, m.message) for m in own.context["messages"]] == [
        (
            "error",
            f"Manual settlement #{waiting.pk}: A second, different staff member must decide on this "
            "manual settlement.",
        )
    ]
    approved = browsers[second.pk].post(
        changelist, {"action": "approve", "_selected_action": [waiting.pk]}, follow=True
    )
    assert (Bet.objects.get(pk=bet.pk).result, ManualSettlement.objects.get(pk=waiting.pk).status) == (
        "win",
        "approved",
    )
    assert [(m.level_tag, m.message) for m in approved.context["messages"]] == [
        ("success", "1 manual settlement(s) approved and settled.")
    ]
