#!/usr/bin/env bash
# Debian's Chromium for the Playwright browser tests (Playwright's own download cannot work here).
set -u
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "==> installing Debian's chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    && exit 0
fi
cat >&2 <<'MSG'
########################################################################
#  WARNING: Chromium is not installed and could not be installed here. #
#  The browser tests (marked `browser`) will be SKIPPED.               #
#  Install Debian's `chromium` package, or set CHROMIUM_PATH.          #
########################################################################
MSG
exit 0
