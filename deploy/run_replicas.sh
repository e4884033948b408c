#!/usr/bin/env bash
# Start N Streamlit replicas of cnnviz on 127.0.0.1 behind a sticky HAProxy, until Ctrl-C (or SECONDS_LIMIT).
#   deploy/run_replicas.sh [N=2] [PROXY_PORT=8500]
#   CNNVIZ_BIND=0.0.0.0 deploy/run_replicas.sh   # a class: the proxy listens on the network (open PROXY_PORT/tcp)
# CNNVIZ_BIND: the proxy's listening address (default 127.0.0.1: this machine only; 0.0.0.0: every interface);
#   the replicas always listen on 127.0.0.1, behind the proxy. CNNVIZ_PUBLIC_URL: the join address the app shows
#   (default http://<this machine's LAN address>:PROXY_PORT when the proxy serves the network).
# Environment: CNNVIZ_COOKIE_SECRET (one secret shared by all replicas; generated when unset),
#   CNNVIZ_STORAGE (shared job storage; default a temporary directory), CNNVIZ_RAY_ADDRESS (optional: train on
#   Ray), FIRST_PORT (replicas on FIRST_PORT, FIRST_PORT+1, ...; default 8601), SECONDS_LIMIT (stop after that),
#   CNNVIZ_JOB_CPUS (the cores each replica's trainings count: default the machine's cores / N, at least 1, so
#   N runners do not each take every core: each replica runs CNNVIZ_JOB_CPUS / 2 trainings at once, at least 1,
#   in child processes at nice 10, or SCHED_IDLE with CNNVIZ_JOB_SCHED=idle: below the pages either way).
# Every process is started here and stopped here by its PID.
set -euo pipefail
N=${1:-2}; PROXY_PORT=${2:-8500}; FIRST_PORT=${FIRST_PORT:-8601}; BIND=${CNNVIZ_BIND:-127.0.0.1}
[[ "$BIND" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || { echo "CNNVIZ_BIND must be an IPv4 address such as 0.0.0.0" >&2; exit 2; }
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
command -v haproxy >/dev/null || { echo "haproxy is missing: apt-get install -y haproxy" >&2; exit 1; }
RUN="$(mktemp -d /tmp/cnnviz-replicas.XXXXXX)"
export CNNVIZ_COOKIE_SECRET="${CNNVIZ_COOKIE_SECRET:-$(python -c 'import secrets; print(secrets.token_hex(32))')}"
export STREAMLIT_SERVER_COOKIE_SECRET="$CNNVIZ_COOKIE_SECRET"  # env, not argv: argv is visible in ps
export CNNVIZ_STORAGE="${CNNVIZ_STORAGE:-$RUN/jobs}"
CORES=$(nproc 2>/dev/null || echo 2)
export CNNVIZ_JOB_CPUS="${CNNVIZ_JOB_CPUS:-$(( CORES / N > 0 ? CORES / N : 1 ))}"
if [ -z "${CNNVIZ_PUBLIC_URL:-}" ]; then  # the address students type, shown by the app (Home, presenter mode)
  HOST="$BIND"
  if [ "$BIND" = 0.0.0.0 ]; then  # the LAN address, as cnnviz.classroom.live.address.lan_address finds it
    HOST=$(python -c 'import socket
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(("10.255.255.255", 1)); print(s.getsockname()[0])
except OSError:
    print("127.0.0.1")')
  fi
  export CNNVIZ_PUBLIC_URL="http://$HOST:$PROXY_PORT"
fi
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
python - "$ROOT/deploy/haproxy.cfg.template" "$RUN/haproxy.cfg" "$BIND:$PROXY_PORT" "$SERVERS" <<'PY'
import sys
src, dst, bind, servers = sys.argv[1:]
open(dst, "w").write(open(src).read().replace("@BIND@", bind).replace("@SERVERS@", servers.rstrip("\n")) + "\n")
PY
haproxy -c -q -f "$RUN/haproxy.cfg"
haproxy -db -f "$RUN/haproxy.cfg" >"$RUN/haproxy.log" 2>&1 &
PIDS+=($!); echo "$!" > "$RUN/haproxy.pid"
echo "cnnviz: $N replicas behind http://$BIND:$PROXY_PORT (logs and pids in $RUN); students open $CNNVIZ_PUBLIC_URL"
echo "$RUN" > "${RUN_DIR_FILE:-/dev/null}"
if [ -n "${SECONDS_LIMIT:-}" ]; then sleep "$SECONDS_LIMIT" & PIDS+=($!); wait "$!"; else wait; fi
