"""Which hosts a chat message points at, however the link is written.

The link policy (`CHAT_LINK_POLICY=block`) lets a message name only hosts under
`CHAT_ALLOWED_LINK_DOMAINS`. Spammers write links so that a filter misses them and a reader
(or a browser) still follows them, so the text is first folded the way a reader reads it:

- Unicode compatibility forms fold to ASCII (NFKC): fullwidth @ and full stop (U+FF20,
  U+FF0E), small @ (U+FE6B), fullwidth letters.
- Invisible characters (zero-width space and joiners, soft hyphen, word joiner, bidi marks:
  Unicode category Cf) are dropped, so `e<ZWJ>vil.com` reads `evil.com`.
- Dot look-alikes (U+3002, U+FF61, U+2024, U+2027, U+00B7) and the written forms `[.]`, `(.)`, `{.}`, `[dot]`,
  `(dot)` become a dot; a backslash before `@`, `.` or `/` is dropped (`user\\@evil.com`).

Then every host is collected: the host of anything with `//` (after the last `@` of its
authority, without the port, with `\\` ending the authority as browsers end it), anything
starting `www.`, every bare domain (labels ending in a real top-level domain from the IANA
list in `chat/tlds.txt`: `example.com`, `evil.co/x`, `пример.рф`, the domain of an email
address) and every dotted IPv4 address. A message is allowed only when every one of them is
under an allowed domain, so `https://evil.com\\@allowed.com` is refused (browsers go to
`evil.com`), and so is an allowed link that also names another host anywhere.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

_DOT_LOOKALIKES = str.maketrans({"\u3002": ".", "\uff61": ".", "\u2024": ".", "\u2027": ".", "\u00b7": "."})
_WRITTEN_DOT = re.compile(r"\s*(?:\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\})\s*", re.I)
_ESCAPED = re.compile(r"\\(?=[@./])")
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_DOMAIN = re.compile(rf"(?<![^\W_])((?:{_LABEL}\.)+({_LABEL}))\.?(?![\w-])")
# "scheme://" or "//" (a browser also takes backslashes), then the authority up to the path
_AUTHORITY = re.compile(r"(?:\b[a-z][a-z0-9+.-]*:|(?<![^\s(<\[\"'])|^)[/\\]{2,}([^\s/\\?#]+)", re.I)
_WWW = re.compile(r"(?<![^\W_])www\.([\w.-]+)", re.I)
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?!\d)(?!\.\d)")


@cache
def top_level_domains() -> frozenset[str]:
    text = (Path(__file__).with_name("tlds.txt")).read_text(encoding="ascii")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _fold_keeping_backslashes(text: str) -> str:
    folded = text
    if not text.isascii():  # NFKC and the look-alikes change only non-ASCII text
        folded = unicodedata.normalize("NFKC", folded)
        folded = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
        folded = folded.translate(_DOT_LOOKALIKES)
    if "[" in folded or "(" in folded or "{" in folded:
        folded = _WRITTEN_DOT.sub(".", folded)
    return folded


def fold(text: str) -> str:
    """The text as a reader sees it (see the module's docstring)."""
    return _ESCAPED.sub("", _fold_keeping_backslashes(text))


def _ascii_host(host: str) -> str:
    host = host.strip().strip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _authority_host(authority: str) -> str:
    host = authority.rsplit("@", 1)[-1]
    if host.startswith("["):  # an IPv6 literal
        return host.split("]", 1)[0] + "]"
    return host.split(":", 1)[0]


def link_hosts(text: str) -> list[str]:
    """Every host the text points at, lower case, IDNA-encoded, in order, once each."""
    folded = fold(text)
    if "." not in folded and "/" not in folded and "\\" not in text:
        return []  # no domain, address or authority without one of these
    found: list[str] = []
    # the authority as a browser reads it (a backslash ends it) and as written without escapes
    if "/" in folded or "\\" in text:
        for version in (_fold_keeping_backslashes(text), folded):
            found.extend(_authority_host(match.group(1)) for match in _AUTHORITY.finditer(version))
    if "www." in folded.lower():
        found.extend(f"www.{match.group(1)}" for match in _WWW.finditer(folded))
    tlds = top_level_domains()
    for match in _DOMAIN.finditer(folded):
        if _ascii_host(match.group(2)) in tlds:
            found.append(match.group(1))
    found.extend(match.group(1) for match in _IPV4.finditer(folded))
    hosts: list[str] = []
    for host in found:
        ascii_host = _ascii_host(host)
        if ascii_host and ascii_host not in hosts:
            hosts.append(ascii_host)
    return hosts


def is_allowed_host(host: str, allowed_domains: list[str] | tuple[str, ...] | set[str]) -> bool:
    for domain in allowed_domains:
        domain = _ascii_host(domain)
        if domain and (host == domain or host.endswith(f".{domain}")):
            return True
    return False


def disallowed_hosts(text: str, allowed_domains: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """The hosts in `text` that are not under one of `allowed_domains`."""
    return [host for host in link_hosts(text) if not is_allowed_host(host, allowed_domains)]
