#!/usr/bin/env bash
# Installs npm dependencies from the lock file when node_modules does not match it, judged from the
# hidden lockfile npm writes itself (scripts/deps-check.mjs). Never under a running process: `npm ci`
# deletes node_modules first, and a worker or simulator started from this checkout would lose the
# code it is running; it refuses instead and says which processes to stop.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if problem="$(node "$root/scripts/deps-check.mjs" sync)"; then
  exit 0
fi
running="$(node "$root/scripts/deps-check.mjs" running)"
if [ -n "$running" ]; then
  {
    echo "patchwave: node_modules does not match package-lock.json ($problem),"
    echo "patchwave: but these processes run from this checkout or its node_modules:"
    echo "$running" | sed 's/^/  pid /'
    echo "patchwave: not reinstalling under them. Stop them (or wait until they finish), then run this again."
  } >&2
  exit 1
fi
echo "patchwave: installing npm dependencies from package-lock.json ($problem)…" >&2
(cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
