"""Pages of the betting app: the bet slip, My bets, statistics, responsible gambling."""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from betthat.core.errors import ApplicationError
from betthat.core.serializers import minor_to_decimal
from betthat.users.reauth import reauthentication_required
from betting import charts, exports, selectors, services
from betting.forms import BetFilterForm, LimitsForm, SelfExclusionForm
from betting.services.limits import money_to_minor
from edges.selectors import edge_slip_target

MAX_ID = selectors.MAX_ID

EDGE_ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,40}")


def _slip_selections(request) -> tuple[list[tuple[int, str]], str]:
    """(outcome_id, sportsbook) pairs and the edge id from the query string.

    `?outcome_id=12&sportsbook=draftkings` (repeat outcome_id for a parlay) or `?edge_id=...`.
    """
    edge_id = request.GET.get("edge_id", "")
    if edge_id and not EDGE_ID_SHAPE.fullmatch(edge_id):  # reflected into the page: refuse markup
        raise Http404("This edge link is not valid.")
    book = request.GET.get("sportsbook", "")
    ids = request.GET.getlist("outcome_id")
    if len(edge_id) > 40 or len(book) > 40 or len(ids) > settings.BETTING_MAX_LEGS:
        raise Http404("This slip cannot be built.")
    if edge_id and not ids:
        target = edge_slip_target(edge_id=edge_id)
        if target is None:
            raise Http404("This edge cannot be bet from the slip.")
        return [target], edge_id
    if not all(i.isascii() and i.isdigit() and 0 < int(i) <= MAX_ID for i in ids if i):
        raise Http404("Unknown outcome.")
    return [(int(i), book) for i in ids if i], edge_id


@login_required
def bet_slip(request):
    """The bet slip: legs, price, fair price, Kelly stake, potential return, limit headroom.
    Rendered as a partial for htmx requests (a drawer on the board) or as a page."""
    selections, edge_id = _slip_selections(request)
    legs, error = [], ""
    for outcome_id, book in selections:
        try:
            legs.append(
                selectors.bet_recommendation(user=request.user, outcome_id=outcome_id, sportsbook=book)
            )
        except ApplicationError as problem:
            error = problem.message
    stake_minor = (
        legs[0]["recommended_stake_minor"] if len(legs) == 1 and request.user.auto_kelly_sizing else 0
    )
    context = {
        "legs": legs,
        "error": error,
        "edge_id": edge_id,
        "slip_token": uuid.uuid4().hex,
        "stake": minor_to_decimal(stake_minor) if stake_minor else "",
        "headroom": legs[0]["headroom"] if legs else None,
        "is_parlay": len(legs) > 1,
    }
    template = "betting/_slip.html" if request.htmx else "betting/slip.html"
    return render(request, template, context)


def _my_bets_context(request, form: BetFilterForm) -> dict:
    filters = selectors.BetFilters()
    if form.is_valid():
        filters = selectors.BetFilters(**{k: v for k, v in form.cleaned_data.items() if v})
    bets = list(selectors.bet_list_for_user(user=request.user, filters=filters)[:100])
    stats = selectors.get_user_bet_statistics(user=request.user)
    export_query = request.GET.urlencode() if form.is_bound and form.is_valid() else ""
    return {
        "form": form if form.is_bound else BetFilterForm(),
        "bets": bets,
        "stats": stats,
        "export_query": export_query,
    }


@login_required
def my_bets(request):
    form = BetFilterForm(request.GET or None)
    template = "betting/_bet_table.html" if request.htmx else "betting/my_bets.html"
    return render(request, template, _my_bets_context(request, form))


@login_required
@require_http_methods(["GET"])
def bets_export(request):
    """My bets as CSV, with the filters of the page (a date range, status, sport)."""
    form = BetFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "betting/my_bets.html", _my_bets_context(request, form), status=400)
    filters = (
        selectors.BetFilters(**{k: v for k, v in form.cleaned_data.items() if v}) if form.is_bound else None
    )
    return exports.bets_csv_response(user=request.user, filters=filters or selectors.BetFilters())


@login_required
@require_http_methods(["GET"])
def bet_detail(request, bet_id: int):
    """One of the user's bets with the edge it was taken from, as it stood at placement."""
    try:
        bet = selectors.bet_get_for_user(user=request.user, bet_id=bet_id)
    except ApplicationError as error:
        raise Http404(error.message) from error
    return render(request, "betting/bet.html", {"bet": bet, "edge": bet.edge_snapshot or None})


@login_required
@require_POST
def bet_cancel_view(request, bet_id: int):
    try:
        services.bet_cancel(user=request.user, bet_id=bet_id)
        messages.success(request, f"Bet #{bet_id} cancelled; the stake is back in your wallet.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("betting:index")


@login_required
def statistics_page(request):
    stats = selectors.get_user_bet_statistics(user=request.user)
    series = selectors.bet_series_for_user(user=request.user)
    # Profit stays integer minor units (exact labels); only the CLV ratios are drawn as floats.
    profit_chart = charts.line_chart([int(v) for _, v in series["profit"]], label=charts.money_label)
    clv_chart = charts.bar_chart([float(v) for _, v in series["clv"]], label=charts.percent_label)
    breakdowns = [
        ("Sport", stats["by_sport"]),
        ("Sportsbook", stats["by_sportsbook"]),
        ("Market", stats["by_market_type"]),
        ("Month", stats["by_month"]),
    ]
    return render(
        request,
        "betting/statistics.html",
        {"stats": stats, "profit_chart": profit_chart, "clv_chart": clv_chart, "breakdowns": breakdowns},
    )


@login_required
@require_http_methods(["GET", "POST"])
def responsible_gambling(request):
    user = request.user
    services.limit_changes_apply_due(user=user)
    initial = {
        "max_bet_size": user.max_bet_size.amount,
        "daily_bet_limit": user.daily_bet_limit.amount,
        "monthly_bet_limit": user.monthly_bet_limit.amount,
    }
    limits_form = LimitsForm(initial=initial)
    exclusion_form = SelfExclusionForm()
    if request.method == "POST" and request.POST.get("action") == "limits":
        limits_form = LimitsForm(request.POST)
        if limits_form.is_valid():
            outcome = services.user_limits_update(user=user, limits=limits_form.limits_minor())
            pending = [name for name, what in outcome.items() if what == "pending"]
            applied = [name for name, what in outcome.items() if what == "applied"]
            if applied:
                messages.success(request, "Lower limits apply now.")
            if pending:
                messages.info(request, "Higher limits take effect after a 24-hour cooling-off period.")
            return redirect("betting:responsible")
    elif request.method == "POST" and request.POST.get("action") == "exclude":
        exclusion_form = SelfExclusionForm(request.POST)
        if exclusion_form.is_valid():
            services.user_self_exclude(user=user, days=exclusion_form.cleaned_data["days"])
            messages.success(request, "You are excluded from betting until the date shown.")
            return redirect("betting:responsible")
    headroom = services.limit_headroom(user=user, currency=str(user.max_bet_size.currency))
    return render(
        request,
        "betting/responsible.html",
        {
            "limits_form": limits_form,
            "exclusion_form": exclusion_form,
            "headroom": headroom,
            "pending": selectors.limit_changes_pending_for_user(user=user),
            "max_bet_minor": money_to_minor(user.max_bet_size),
        },
    )


def _close_account_post(request):
    try:
        result = services.account_close(user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("betting:account-close")
    if result.status == "closed":
        logout(request)
        messages.success(request, "Your account is closed. Thank you for betting with us.")
        return redirect("/")
    paid = ", ".join(f"{minor_to_decimal(p.amount_minor)} {p.currency}" for p in result.payouts)
    messages.info(request, f"Your balance ({paid}) is being paid out. Your account closes when it arrives.")
    return redirect("betting:account-close")


@login_required
@require_http_methods(["GET", "POST"])
def account_close_page(request):
    """Close one's own account: what is still open, and a button that (after confirming the
    password) pays the balance out and closes it."""
    if request.method == "POST":
        return reauthentication_required(_close_account_post)(request)
    user = request.user
    return render(
        request,
        "betting/account_close.html",
        {
            "open_bets": services.closure_open_bets(user=user),
            "money": services.closure_money(user=user),
        },
    )
