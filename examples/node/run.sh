#!/usr/bin/env bash
# Run the Node.js example against a fresh `pvemock serve` (manual clock, a free port, its CA in a temporary folder).
# Usage: bash examples/node/run.sh [PVEMOCK COMMAND...]   (default: pvemock)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pvemock=("$@")
[ ${#pvemock[@]} -gt 0 ] || pvemock=(pvemock)
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
"${pvemock[@]}" serve --port 0 --clock manual --quiet --cert-dir "$work/tls" >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 1 300); do
    grep -q '^Press Ctrl-C' "$work/out" 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$work/err" >&2; exit 1; }
    sleep 0.2
done
url=$(sed -nE 's|^  URL: +(https://[^/]+)/api2/json$|\1|p' "$work/out")
[ -n "$url" ] || { echo "run.sh: pvemock serve did not start" >&2; cat "$work/out" "$work/err" >&2; exit 1; }
PVEMOCK_URL=$url NODE_EXTRA_CA_CERTS=$work/tls/ca.pem node --test "$here"/
