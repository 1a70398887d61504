#!/usr/bin/env bash
# Usage: apt_install.sh COMMAND PACKAGE PURPOSE
# Debian's PACKAGE, unless COMMAND is already there. Exits 1, having installed nothing, where
# apt-get or root is missing or the install fails; the caller says what that means.
set -u
command -v "$1" >/dev/null 2>&1 && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "==> installing Debian's $2 $3"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null && exit 0
fi
exit 1
