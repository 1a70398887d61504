"""Template tags over `betthat.core.formatting`: `{% load betthat_format %}`.

{% odds price american %}      a price in the viewer's odds format
{{ minor|money:"USD" }}         1,234.56 USD
{{ minor|amount }}              1,234.56 (the header names the currency)
{{ ratio|percent:1 }}           5.2%     {{ ratio|signed_percent }}  +5.2%
{% when value %}                <time> in the viewer's zone, one style
{{ key|market_name }} {{ key|book_name }} {{ status|state_name }}
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html

from betthat.core import formatting

register = template.Library()


def _viewer_odds_format(context: template.Context) -> str:
    if "odds_format" in context:
        return formatting.normalise_odds_format(context["odds_format"])
    request = context.get("request")
    return formatting.odds_format_for(getattr(request, "user", None))


def _viewer_zone(context: template.Context) -> str:
    if context.get("user_timezone"):
        return str(context["user_timezone"])
    request = context.get("request")
    zone_name = getattr(request, "time_zone_name", None)
    if zone_name:
        return str(zone_name)
    return formatting.timezone_name_for(getattr(request, "user", None))


@register.simple_tag(takes_context=True)
def odds(context: template.Context, price_decimal: Any, american: Any = None) -> str:
    return formatting.format_odds(price_decimal, _viewer_odds_format(context), american=american)


@register.simple_tag(takes_context=True)
def when(context: template.Context, value: datetime | None, with_zone: bool = True) -> str:
    if value is None:
        return formatting.DASH
    return format_html(
        '<time datetime="{}">{}</time>',
        value.isoformat(),
        formatting.format_datetime(value, _viewer_zone(context), with_zone=with_zone),
    )


@register.filter
def clock(value: datetime | str | None) -> str:
    """'14:05' in the active zone (the viewer's, UserTimeZoneMiddleware), from a datetime or
    the ISO text a message frame carries."""
    moment = parse_datetime(value) if isinstance(value, str) else value
    if moment is None:
        return formatting.DASH
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return f"{timezone.localtime(moment):%H:%M}"


@register.filter
def money(minor: Any, currency: str = "USD") -> str:
    return formatting.format_money(minor, currency or "USD")


@register.filter
def signed_money(minor: Any, currency: str = "USD") -> str:
    return formatting.format_money(minor, currency or "USD", signed=True)


@register.filter
def amount(minor: Any, currency: str = "USD") -> str:
    return formatting.format_amount(minor, currency or "USD")


@register.filter
def decimal_amount(value: Any) -> str:
    return formatting.format_decimal_amount(value)


@register.filter
def percent_value(ratio: Any) -> str:
    """A ratio as the number to put in a percent input: 0.025 -> '2.5'."""
    return formatting.percent_input_value(ratio)


@register.filter
def percent(ratio: Any, places: int = 1) -> str:
    return formatting.format_percent(ratio, int(places))


@register.filter
def signed_percent(ratio: Any, places: int = 1) -> str:
    return formatting.format_percent(ratio, int(places), signed=True)


@register.filter
def market_name(key: Any) -> str:
    return formatting.market_name(key)


@register.filter
def book_name(key: Any, title: str | None = None) -> str:
    return formatting.book_name(key, title)


@register.filter
def sport_name(key: Any, title: str | None = None) -> str:
    return formatting.sport_name(key, title)


@register.filter
def label_text(value: Any) -> str:
    return formatting.label_text(value)


@register.filter
def state_name(value: Any) -> str:
    return formatting.state_name(value)


@register.filter
def kind_name(value: Any) -> str:
    return formatting.EDGE_KIND_NAMES.get(str(value), formatting.state_name(value))


@register.filter
def best_open_key(quotes: Any) -> str:
    """The key of the highest price among quotes that are not suspended ('' if none):
    a suspended price is never the best one."""
    best_key, best_price = "", None
    for key, quote in (quotes or {}).items():
        if quote is None or getattr(quote, "is_suspended", False):
            continue
        price = getattr(quote, "price_decimal", None)
        if price is not None and (best_price is None or price > best_price):
            best_key, best_price = key, price
    return best_key


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if mapping else None


@register.filter
def book_colour(key: Any) -> str:
    return formatting.book_colour(key)


@register.filter
def market_groups(sections: Any) -> list[dict[str, Any]]:
    """Event-page sections (each with `board.market`) grouped as main lines, alternates,
    other markets and props by player, in that order; each group gets an anchor slug."""
    groups: dict[tuple[int, str], list[Any]] = {}
    for section in sections or []:
        market = section["board"].market
        groups.setdefault(formatting.market_group(market.key, market.player), []).append(section)
    out = []
    for index, ((_order, heading), items) in enumerate(sorted(groups.items(), key=lambda kv: kv[0])):
        out.append({"heading": heading, "slug": f"group-{index}", "sections": items, "is_main": _order == 0})
    return out


@register.filter
def all_open(legs: Any) -> bool:
    """True when every leg of a slip can be bet now (a closed market closes the slip)."""
    legs = list(legs or [])
    return bool(legs) and all(leg.get("is_open") for leg in legs)


@register.filter
def any_negative(values: Any) -> bool:
    """True when a leg's expected value is below zero (the slip warns, it does not block)."""
    return any(v is not None and v < 0 for v in (values or []))


@register.filter
def pluck(items: Any, key: str) -> list[Any]:
    return [item.get(key) if isinstance(item, dict) else getattr(item, key, None) for item in items or []]


@register.filter
def is_past(value: datetime | None) -> bool:
    return value is not None and value <= timezone.now()


@register.filter
def edge_is_closed(edge: Any) -> bool:
    """An edge that cannot be bet: expired, or its event started, finished or was cancelled."""
    event = getattr(edge, "event", None)
    return (
        getattr(edge, "status", "") == "expired"
        or event is None
        or getattr(event, "status", "scheduled") != "scheduled"
        or is_past(getattr(event, "commence_time", None))
    )


# The staff console's index, by task rather than by app (app_label, or app_label.ObjectName).
ADMIN_TASKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Users and access", ("users", "account", "mfa", "auth", "authtoken", "socialaccount")),
    ("Money", ("wallet",)),
    ("Betting", ("betting",)),
    ("Market data", ("edges",)),
    ("Community", ("social", "chat")),
    ("System", ("core", "django_celery_beat", "sites", "contenttypes", "sessions")),
)


@register.simple_tag
def admin_task_groups(app_list: Any) -> list[dict[str, Any]]:
    """Django admin's app list regrouped by task; apps no task names land in System."""
    groups: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in ADMIN_TASKS}
    for app in app_list or []:
        label = app.get("app_label", "")
        task = next((name for name, labels in ADMIN_TASKS if label in labels), "System")
        for model in app.get("models", []):
            groups[task].append({**model, "app_name": app.get("name", "")})
    return [
        {"name": name, "slug": f"task-{index}", "models": sorted(models, key=lambda m: str(m["name"]))}
        for index, (name, models) in enumerate(groups.items())
        if models
    ]
