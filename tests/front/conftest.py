"""Browser fixtures for the front-end tests: the real ASGI server (pages and websockets),
a logged-in page, a recorder of CSP violations and script runs, and axe-core."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

AXE = Path(settings.BASE_DIR) / "static" / "vendor" / "axe.min.js"

# Runs before any page script (Playwright injects it outside the page's CSP): records every
# CSP violation and gives a payload a flag to raise, so a test can prove nothing ran.
WATCH = """
window.__csp = [];
window.__xss = 0;
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push({directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample});
});
"""


@pytest.fixture
def watched_page(browser_page):
    browser_page.add_init_script(WATCH)
    dialogs: list[str] = []
    browser_page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    browser_page.dialogs = dialogs
    return browser_page


def axe_violations(page, *, impacts=("serious", "critical")) -> list[dict]:
    """axe-core, loaded from static/vendor (script-src 'self' allows it), run on the page."""
    assert AXE.exists(), "static/vendor/axe.min.js is missing: run `make install`"
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/static/vendor/axe.min.js")
    result = page.evaluate(
        """async () => {
          const r = await axe.run(document, {resultTypes: ["violations"]});
          return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary)}));
        }"""
    )
    return [v for v in result if v["impact"] in impacts]


def page_overflow(page) -> int:
    """How many pixels the page scrolls sideways (0 when it fits the viewport)."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
