"""The client's address: one function for every place that needs it (allauth's rate limits,
the API's throttles, /metrics and /readyz access, the geo check).

Whom to believe, from settings:

- `TRUSTED_CLIENT_IP_HEADER` (e.g. `CF-Connecting-IP`): a header our own proxy or CDN sets
  and overwrites. When the request carries it, it is the client; a request without it is
  read as below.
- else `TRUSTED_PROXY_COUNT` > 0: the entry of `X-Forwarded-For` that our outermost proxy
  appended (the n-th from the right, as DRF's `NUM_PROXIES`); anything left of it is the
  client's to write. A shorter header than the proxy count means the request skipped a
  proxy: its leftmost entry (DRF does the same) rather than a 500.
- else the socket address (`REMOTE_ADDR`), whatever the headers say.

A value that is not an IP address counts as none ("" is returned when nothing is usable).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def _clean(value: str | None) -> str:
    if not value:
        return ""
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return ""


def client_ip(request: Any) -> str:
    """The client's address for a Django `HttpRequest` or a DRF `Request` (see the module)."""
    meta = request.META
    header = settings.TRUSTED_CLIENT_IP_HEADER
    if header:
        meta_key = "HTTP_" + header.upper().replace("-", "_")
        if meta.get(meta_key):
            return _clean(meta[meta_key])
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        addresses = [part.strip() for part in forwarded.split(",")]
        return _clean(addresses[-min(proxies, len(addresses))])
    return _clean(meta.get("REMOTE_ADDR"))
