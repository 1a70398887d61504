"""Issue 18 item 11: one client-address function (betthat/core/client_ip.py) for allauth's
rate limits, the API's throttles and /metrics. `TRUSTED_CLIENT_IP_HEADER` reached allauth
only: behind a proxy, DRF throttled every client as the proxy, and /metrics let in anyone
whose request came through a proxy on an allowed address."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from betthat.core import throttling
from betthat.core.client_ip import client_ip
from betthat.users.adapters import AccountAdapter

pytestmark = pytest.mark.django_db

PROXY = "127.0.0.1"  # our own proxy, on an address /metrics allows
TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture
def behind_a_cdn(settings):
    settings.TRUSTED_CLIENT_IP_HEADER = "CF-Connecting-IP"
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = "CF-Connecting-IP"
    settings.DEBUG = False
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    settings.METRICS_BEARER_TOKEN = ""


def test_allauth_the_throttles_and_metrics_see_the_same_address(behind_a_cdn):
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_CF_CONNECTING_IP="203.0.113.9")
    assert client_ip(request) == "203.0.113.9"
    assert AccountAdapter(request).get_client_ip(request) == "203.0.113.9"
    assert throttling.AnonRateThrottle().get_ident(request) == "203.0.113.9"
    assert throttling.ScopedRateThrottle().get_ident(request) == "203.0.113.9"


def test_metrics_behind_a_trusted_proxy_are_judged_by_the_client_address(behind_a_cdn):
    outsider = Client().get("/metrics", REMOTE_ADDR=PROXY, HTTP_CF_CONNECTING_IP="203.0.113.9")
    assert outsider.status_code == 403
    assert outsider.json()["error"]["code"] == "permission_denied"
    # The scraper on the allowed address, through the same proxy, still gets in.
    assert Client().get("/metrics", REMOTE_ADDR=PROXY, HTTP_CF_CONNECTING_IP="127.0.0.1").status_code == 200


def test_api_throttles_count_each_client_behind_the_proxy_apart(behind_a_cdn):
    def attempt(address: str, n: int) -> int:
        return (
            APIClient()
            .post(
                TOKEN_URL,
                {"email": f"nobody{n}@example.com", "password": "wrong"},
                format="json",
                REMOTE_ADDR=PROXY,
                HTTP_CF_CONNECTING_IP=address,
            )
            .status_code
        )

    first = [attempt("203.0.113.9", n) for n in range(12)]
    assert first[-1] == 429  # the token scope's 10 a minute, for this client
    assert attempt("198.51.100.4", 99) == 401  # another client through the same proxy is not throttled


@pytest.mark.parametrize(
    ("meta", "proxies", "header", "expected"),
    [
        ({"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}, 0, "", "192.0.2.1"),
        ({"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7"}, 1, "", "203.0.113.7"),
        ({"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}, 2, "", "203.0.113.7"),
        ({"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "not-an-ip"}, 1, "", ""),
        ({"REMOTE_ADDR": "192.0.2.1"}, 0, "CF-Connecting-IP", "192.0.2.1"),
        (
            {"REMOTE_ADDR": "192.0.2.1", "HTTP_CF_CONNECTING_IP": "[2001:db8::1]"},
            0,
            "CF-Connecting-IP",
            "2001:db8::1",
        ),
        ({"REMOTE_ADDR": "192.0.2.1:5555"}, 0, "", "192.0.2.1"),
    ],
)
def test_client_ip_cases(settings, meta, proxies, header, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    settings.TRUSTED_CLIENT_IP_HEADER = header
    request = RequestFactory().get("/")
    request.META.update(meta)
    if "REMOTE_ADDR" not in meta:
        request.META.pop("REMOTE_ADDR", None)
    assert client_ip(request) == expected
