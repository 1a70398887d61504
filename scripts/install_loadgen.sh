#!/usr/bin/env bash
# Debian's wrk, the load generator of bench/betting (C: a few % of a core, where the Python
# fallback, httpx in the benchmark's own process, takes a good part of one from the server).
set -u
bash "$(dirname "$0")/apt_install.sh" wrk wrk "for the benchmarks' HTTP load" && exit 0
echo "WARNING: wrk is not installed and could not be installed here; bench/betting falls back to httpx" \
  "in its own process and says so in its output." >&2
exit 0
