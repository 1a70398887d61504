"""No script from data: a script in a URL parameter never runs on a page that reflects it,
server text is only ever text, and the Content-Security-Policy is on every page."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.betting.factories import make_edge, make_game
from tests.conftest import browser_log_in
from tests.wallet.factories import fund_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAYLOAD = '"\'><img src=x onerror="window.__xss=1"><script>window.__xss=2</script><svg onload=window.__xss=3>'
Q = quote(PAYLOAD)


def _assert_clean(page, what: str) -> None:
    assert page.evaluate("() => window.__xss") == 0, f"script from the URL ran on {what}"
    assert page.dialogs == []
    # nothing the payload carried became markup, and the page has no inline script of its own
    assert page.locator("img[onerror], svg[onload]").count() == 0, what
    assert page.locator("script:not([src]):not([type='application/json'])").count() == 0, what
    # ... and nothing of ours was refused by the policy (no inline script, style or eval left)
    assert page.evaluate("() => window.__csp") == [], what


def _assert_policy(response) -> None:
    policy = response.headers.get("content-security-policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives.get("script-src") == ["'self'"], policy
    assert directives.get("object-src") == ["'none'"], policy
    assert directives.get("base-uri") == ["'self'"], policy
    assert directives.get("frame-ancestors") == ["'none'"], policy
    assert "'unsafe-inline'" not in directives.get("style-src", []), policy


def test_a_script_in_a_url_parameter_never_runs_on_pages_that_reflect_it(watched_page, asgi_server, user):
    page = watched_page
    game = make_game()
    edge = make_edge(game, "home_ml", "draftkings")
    fund_user(user, 50_000)
    browser_log_in(page, user, asgi_server)
    outcome = game.o("home_ml").pk
    pages = {
        "board filters": f"/edges/?sport={Q}&market_type={Q}&sportsbook={Q}&player={Q}&min_edge={Q}&ordering={Q}",
        "home board": f"/?kind={Q}&min_ev={Q}",
        "event": f"/events/{game.event.pk}/?tab={Q}#{Q}",
        "edge": f"/edges/{edge.edge_id}/?total={Q}",
        "slip by outcome": f"/bets/slip/?outcome_id={outcome}&sportsbook={Q}",
        "my bets": f"/bets/?status={Q}&sport={Q}&date_from={Q}",
        "wallet": f"/wallet/?currency={Q}&watch={Q}",
        "wallet history": f"/wallet/history/?type={Q}&status={Q}&page={Q}",
        "statistics": f"/bets/stats/?x={Q}",
        "glossary": f"/glossary/?q={Q}",
    }
    for what, path in pages.items():
        response = page.goto(asgi_server + path)
        assert response.status < 500, f"{what}: {response.status}"
        _assert_policy(response)
        page.wait_for_load_state("networkidle")
        _assert_clean(page, what)


def test_the_slip_refuses_a_crafted_edge_id_and_shows_server_text_as_text(watched_page, asgi_server, user):
    page = watched_page
    game = make_game()
    make_edge(game, "home_ml", "draftkings")
    fund_user(user, 50_000)
    browser_log_in(page, user, asgi_server)
    outcome = game.o("home_ml").pk

    # the server refuses an edge id that is not one it could have issued
    response = page.goto(f"{asgi_server}/bets/slip/?outcome_id={outcome}&sportsbook=draftkings&edge_id={Q}")
    assert response.status == 404
    _assert_clean(page, "slip with a crafted edge id")

    # server text (here an error that echoes markup) is shown as text, never parsed
    response = page.goto(f"{asgi_server}/bets/slip/?outcome_id={outcome}&sportsbook=draftkings")
    _assert_policy(response)
    page.route(
        "**/api/v1/bets/",
        lambda route: route.fulfill(
            status=404,
            content_type="application/json",
            json={"error": {"code": "not_found", "message": f"No edge {PAYLOAD}.", "details": {}}},
        ),
    )
    page.get_by_test_id("slip-stake").fill("5.00")
    page.get_by_test_id("slip-place").click()
    message = page.get_by_test_id("slip-message")
    message.locator("text=No edge").wait_for()
    assert message.inner_text().startswith(f"No edge {PAYLOAD}.")
    assert message.locator("img, script, svg").count() == 0
    _assert_clean(page, "slip error message")

    # a slip whose edge id was tampered with in the page is refused before it is sent
    page.unroute("**/api/v1/bets/")
    page.evaluate("(v) => { document.getElementById('bet-slip').dataset.edgeId = v; }", PAYLOAD)
    page.get_by_test_id("slip-place").click()
    message.locator("text=edge link is not valid").wait_for()
    assert message.locator("img, script, svg").count() == 0
    _assert_clean(page, "slip with a tampered edge id")


def test_api_docs_and_admin_work_under_the_policy(watched_page, asgi_server, staff_user):
    page = watched_page
    staff_user.is_superuser = True
    staff_user.save(update_fields=["is_superuser"])
    browser_log_in(page, staff_user, asgi_server)

    response = page.goto(asgi_server + "/api/docs/")
    assert response.headers.get("content-security-policy"), "the docs page has a policy too"
    page.locator(".swagger-ui .info .title").wait_for(timeout=20_000)
    assert "Bet-That API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() > 5
    violations = page.evaluate("() => window.__csp")
    assert [v for v in violations if v["directive"].startswith("script-src")] == [], violations

    for path in ["/admin/", "/admin/users/user/", f"/admin/users/user/{staff_user.pk}/change/"]:
        response = page.goto(asgi_server + path)
        assert response.status == 200, path
        _assert_policy(response)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("() => window.__csp") == [], path
