#!/usr/bin/env bash
# Re-makes docs/src/images/explorer.png: runs the fork demo (simulated mining, so any build will
# do), waits until forks have happened, and has headless chromium photograph the
# launch's page. Needs chromium (apt-get install -y chromium).
#
#     docs/explorer-screenshot.sh [SECONDS_OF_RUN_BEFORE_THE_PICTURE]
set -euo pipefail
cd "$(dirname "$0")/.."
wait_s="${1:-25}"
cargo build --quiet
run_dir="$(mktemp -d)/run"
out="$(mktemp)"
target/debug/ironchain launch config/fork-demo.toml --run-dir "$run_dir" --quiet >"$out" 2>/dev/null &
launch=$!
trap 'kill $launch 2>/dev/null || true; rm -rf "$(dirname "$run_dir")" "$out"' EXIT
url=""
for _ in $(seq 1 100); do
    url="$(sed -n 's/^launch page at //p' "$out")"
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "the launch printed no page URL" >&2; exit 1; }
sleep "$wait_s"
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run \
    --user-data-dir="$(mktemp -d)" --hide-scrollbars --window-size=1400,1250 \
    --virtual-time-budget=2000 --screenshot="$PWD/docs/src/images/explorer.png" "$url" 2>/dev/null
echo "wrote docs/src/images/explorer.png from $url"
