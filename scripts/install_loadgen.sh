#!/usr/bin/env bash
# Debian's wrk, the load generator of bench/betting (C: a few % of a core, where the Python
# fallback, httpx in the benchmark's own process, takes a good part of one from the server).
set -u
if command -v wrk >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "==> installing Debian's wrk for the benchmarks' HTTP load"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) && exit 0
fi
echo "WARNING: wrk is not installed and could not be installed here; bench/betting falls back to httpx" \
  "in its own process and says so in its output." >&2
exit 0
