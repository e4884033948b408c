#!/usr/bin/env bash
# Start N Streamlit replicas of cnnviz on 127.0.0.1 behind a sticky HAProxy, until Ctrl-C (or SECONDS_LIMIT).
#   deploy/run_replicas.sh [N=2] [PROXY_PORT=8500]
# Environment: CNNVIZ_COOKIE_SECRET (one secret shared by all replicas; generated when unset),
#   CNNVIZ_STORAGE (shared job storage; default a temporary directory), CNNVIZ_RAY_ADDRESS (optional: train on
#   Ray), FIRST_PORT (replicas on FIRST_PORT, FIRST_PORT+1, ...; default 8601), SECONDS_LIMIT (stop after that).
# Every process is started here and stopped here by its PID.
set -euo pipefail
N=${1:-2}; PROXY_PORT=${2:-8500}; FIRST_PORT=${FIRST_PORT:-8601}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
command -v haproxy >/dev/null || { echo "haproxy is missing: apt-get install -y haproxy" >&2; exit 1; }
RUN="$(mktemp -d /tmp/cnnviz-replicas.XXXXXX)"
export CNNVIZ_COOKIE_SECRET="${CNNVIZ_COOKIE_SECRET:-$(python -c 'import secrets; print(secrets.token_hex(32))')}"
export STREAMLIT_SERVER_COOKIE_SECRET="$CNNVIZ_COOKIE_SECRET"  # env, not argv: argv is visible in ps
export CNNVIZ_STORAGE="${CNNVIZ_STORAGE:-$RUN/jobs}"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
# SIGTERM/Ctrl-C end the script at once (the waits below are interruptible), and EXIT stops every child,
# which frees the replicas' and the proxy's ports.
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

SERVERS=""
for i in $(seq 1 "$N"); do
  port=$((FIRST_PORT + i - 1))
  (cd "$ROOT" && exec python -m streamlit run app.py --server.headless true --server.address 127.0.0.1 \
      --server.port "$port" --browser.gatherUsageStats false \
      >"$RUN/replica$i.log" 2>&1) &
  PIDS+=($!); echo "$!" > "$RUN/replica$i.pid"
  SERVERS+="    server r$i 127.0.0.1:$port cookie r$i check inter 1s fall 2 rise 1"$'\n'
done
python - "$ROOT/deploy/haproxy.cfg.template" "$RUN/haproxy.cfg" "127.0.0.1:$PROXY_PORT" "$SERVERS" <<'PY'
import sys
src, dst, bind, servers = sys.argv[1:]
open(dst, "w").write(open(src).read().replace("@BIND@", bind).replace("@SERVERS@", servers.rstrip("\n")) + "\n")
PY
haproxy -c -q -f "$RUN/haproxy.cfg"
haproxy -db -f "$RUN/haproxy.cfg" >"$RUN/haproxy.log" 2>&1 &
PIDS+=($!); echo "$!" > "$RUN/haproxy.pid"
echo "cnnviz: $N replicas behind http://127.0.0.1:$PROXY_PORT (logs and pids in $RUN)"
echo "$RUN" > "${RUN_DIR_FILE:-/dev/null}"
if [ -n "${SECONDS_LIMIT:-}" ]; then sleep "$SECONDS_LIMIT" & PIDS+=($!); wait "$!"; else wait; fi
