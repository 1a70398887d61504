#!/usr/bin/env bash
# Debian's Chromium for the Playwright browser tests (Playwright's own download cannot work here).
set -u
if [ -x /usr/bin/chromium ] || bash "$(dirname "$0")/apt_install.sh" chromium chromium "for the browser tests"; then
  exit 0
fi
cat >&2 <<'MSG'
########################################################################
#  WARNING: Chromium is not installed and could not be installed here. #
#  The browser tests (marked `browser`) will be SKIPPED.               #
#  Install Debian's `chromium` package, or set CHROMIUM_PATH.          #
########################################################################
MSG
exit 0
