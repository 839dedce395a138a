#!/usr/bin/env bash
# The ingest API beside nginx, in one run, with the same load generator (docs/ingest-api.md
# "Benchmark"). nginx answers the very same POST /v1/track requests with a static `return 200`
# on loopback: the ceiling for "an HTTP server on these cores", against which the hub's goal
# (at least half of nginx's requests/s) is stated.
#
# Usage: bench/ingest/compare_nginx.sh [--seconds S] [--connections N] [--runs R] [--bench PATH]
#                                      [--durability "full normal"] [--max-backlog E]
# nginx, then for each inbox durability (default both: "full", the hub's default, fsyncs every
# group commit; "normal" survives kill -9 but not a power cut) the hub with single events and
# with 100-event batches, each run R times (default 3), interleaved so that changes of machine
# load hit all of them alike; the table shows medians. Installs Debian's nginx-light if there is
# no nginx. The hub's unprocessed-backlog limit is raised to E events (default 100,000,000): the
# processor sustains about 8,000 events/s, so with the hub's default (1,000,000) batches would
# meet 429s after a few seconds and the run would measure the processor, not the ingest path.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=10
connections=64
durabilities="full normal"
runs=3
max_backlog=100000000
bench=build/default/bench/ingest/ingest_bench
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2" ;;
    --connections) connections="$2" ;;
    --durability) durabilities="$2" ;;
    --runs) runs="$2" ;;
    --bench) bench="$2" ;;
    --max-backlog) max_backlog="$2" ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
[ -x "$bench" ] || { echo "no $bench: scripts/build.sh default ingest_bench" >&2; exit 1; }

nginx_bin="$(command -v nginx || true)"
[ -z "$nginx_bin" ] && [ -x /usr/sbin/nginx ] && nginx_bin=/usr/sbin/nginx
if [ -z "$nginx_bin" ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  # Not in scripts/install-deps.sh: only this comparison needs it, not the build or the tests.
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light
  nginx_bin=/usr/sbin/nginx
fi

# A free loopback port: nothing answers a connection to it.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=$((20000 + RANDOM % 30000))
until port_free "$port"; do port=$((port + 1)); done

dir="$(mktemp -d /tmp/cdphub-nginx.XXXXXX)"
nginx_pid=""
cleanup() {
  if [ -n "$nginx_pid" ]; then
    kill "$nginx_pid" 2>/dev/null || true   # the master stops its workers (fast shutdown)
    wait "$nginx_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

cores="$(nproc)"
# Everything nginx writes goes to $dir, so it runs without root; no access log (the hub keeps
# none either); keep-alive with no request limit per connection, as the load generator expects.
cat >"$dir/nginx.conf" <<EOF
worker_processes $cores;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    keepalive_timeout 65s;
    keepalive_requests 1000000000;
    server {
        listen 127.0.0.1:$port;
        location / {
            default_type application/json;
            return 200 '{"success":true}';
        }
    }
}
EOF
"$nginx_bin" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" &
nginx_pid=$!
for _ in $(seq 50); do port_free "$port" || break; sleep 0.1; done
port_free "$port" && { echo "nginx did not start:" >&2; cat "$dir/error.log" >&2; exit 1; }

# One measurement: prints "rps events_per_s p50_ms p99_ms" from ingest_bench's summary line.
measure() {
  "$bench" --connections "$connections" --seconds "$seconds" "$@" |
    sed -n 's/.*: \([0-9]*\) req\/s, \([0-9]*\) events\/s, p50 \([0-9.]*\) ms, p99 \([0-9.]*\) ms.*/\1 \2 \3 \4/p'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "$(date -u +%FT%TZ) $(nproc) cores, $connections connections, ${seconds}s per run, $runs runs," \
  "$("$nginx_bin" -v 2>&1)"
echo "each run: requests/s events/s p50-ms p99-ms"
: >"$dir/nginx.txt"
for d in $durabilities; do : >"$dir/single-$d.txt" && : >"$dir/batch-$d.txt"; done
for r in $(seq "$runs"); do
  echo "run $r: load average $(cut -d' ' -f1-3 /proc/loadavg)"
  measure --port "$port" --batch 1 | tee -a "$dir/nginx.txt" | sed 's/^/  nginx: /'
  for d in $durabilities; do
    measure --durability "$d" --max-backlog "$max_backlog" --batch 1 | tee -a "$dir/single-$d.txt" | sed "s/^/  hub single $d: /"
    measure --durability "$d" --max-backlog "$max_backlog" --batch 100 | tee -a "$dir/batch-$d.txt" | sed "s/^/  hub batch $d: /"
  done
done

col() { cut -d' ' -f"$2" "$dir/$1.txt" | median; }
nginx_rps="$(col nginx 1)"
printf '\n%-28s %12s %12s %9s %9s %14s\n' "target" "requests/s" "events/s" "p50 ms" "p99 ms" "req/s vs nginx"
# The ratio compares requests of one event each; a batch row shows its events/s only.
row() {
  local name="$1" file="$2" rps ratio="-"
  rps="$(col "$file" 1)"
  [ "$3" = single ] && ratio="$(awk -v a="$rps" -v b="$nginx_rps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
  printf '%-28s %12.0f %12.0f %9.2f %9.2f %14s\n' "$name" "$rps" "$(col "$file" 2)" \
    "$(col "$file" 3)" "$(col "$file" 4)" "$ratio"
}
row "nginx return 200" nginx single
for d in $durabilities; do
  row "hub /v1/track, $d" "single-$d" single
  row "hub /v1/batch (100), $d" "batch-$d" batch
done
echo "(medians of $runs runs; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
