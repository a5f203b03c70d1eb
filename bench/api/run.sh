#!/usr/bin/env bash
# API benchmark: status-poll and submit throughput of a real `kiln serve` (release build),
# measured with wrk against a store that already holds 10,000 jobs.
#
#   bench/api/run.sh                 # builds release, runs, prints a Markdown table
#   KILN_BINARY=path bench/api/run.sh  # use an existing binary
#   DURATION=10s CONNECTIONS=32 THREADS=2 SEED_JOBS=10000 bench/api/run.sh
#   AUTH=key bench/api/run.sh        # with an API key (every request checks it)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/bench/api"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
SEED_JOBS="${SEED_JOBS:-10000}"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
if [[ -z "${KILN_BINARY:-}" ]]; then
  (cd "$ROOT" && swift build -c release --product kiln >&2)
  KILN_BINARY="$ROOT/.build/release/kiln"
fi

WORK="$(mktemp -d -t kiln-bench-XXXXXX)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# AUTH=key: run with an API key, so every request also pays for the key check (the way a
# shared server runs); the default is open local mode.
AUTH_HEADER=()
if [[ "${AUTH:-open}" == "key" ]]; then
  KILN_KEY="$("$KILN_BINARY" keys create --data-dir "$WORK/data" --name bench 2>/dev/null | head -1)"
  export KILN_KEY
  AUTH_HEADER=(-H "Authorization: Key $KILN_KEY")
fi

"$KILN_BINARY" serve --port 0 --data-dir "$WORK/data" --no-worker --log-level error > "$WORK/out" 2> "$WORK/err" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  grep -q "Kiln listening on" "$WORK/out" 2>/dev/null && break
  sleep 0.1
done
URL="$(sed -n 's/^Kiln listening on //p' "$WORK/out")"
[[ -n "$URL" ]] || { echo "kiln serve did not start:" >&2; cat "$WORK/err" >&2; exit 1; }

queued() { curl -s "$URL/healthz" | sed -n 's/.*"queued":\([0-9]*\).*/\1/p'; }

# Seed the store to SEED_JOBS jobs through the API itself (wrk, submit script).
while [[ "$(queued)" -lt "$SEED_JOBS" ]]; do
  wrk -t "$THREADS" -c "$CONNECTIONS" -d 5s -s "$HERE/submit.lua" "$URL/fal-ai/ltx23-video-trainer" > /dev/null
done
SEEDED="$(queued)"

# One job to poll: the newest one.
ID="$(curl -s -X POST -H 'Content-Type: application/json' "${AUTH_HEADER[@]}" \
  -d '{"training_data_url":"https://example.com/clips.zip"}' "$URL/fal-ai/ltx23-video-trainer" \
  | sed -n 's/.*"request_id":"\([^"]*\)".*/\1/p')"

# Prints "req/s p50 p99" from wrk --latency output (latencies converted to ms).
summarize() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50.000%" || $1 == "50%" { p50 = ms($2) }
    $1 == "99.000%" || $1 == "99%" { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { printf "%.0f %.2f %.2f %s\n", rps, p50, p99, (bad == "" ? 0 : bad) }'
}

wrk -t "$THREADS" -c "$CONNECTIONS" -d 3s -s "$HERE/status.lua" "$URL/fal-ai/ltx23-video-trainer/requests/$ID/status" > /dev/null
read -r S_RPS S_P50 S_P99 S_BAD < <(wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --latency -s "$HERE/status.lua" \
  "$URL/fal-ai/ltx23-video-trainer/requests/$ID/status" | tee "$WORK/status.txt" | summarize)
read -r U_RPS U_P50 U_P99 U_BAD < <(wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --latency -s "$HERE/submit.lua" \
  "$URL/fal-ai/ltx23-video-trainer" | tee "$WORK/submit.txt" | summarize)

# Mixed: polls while submits keep arriving, so every poll finds the queue grown since the
# last one (the queue snapshot's append path rather than its steady state).
wrk -t 1 -c 4 -d "$DURATION" --latency -s "$HERE/submit.lua" "$URL/fal-ai/ltx23-video-trainer" > "$WORK/mixed-submit.txt" &
MIXED_SUBMIT_PID=$!
read -r M_RPS M_P50 M_P99 M_BAD < <(wrk -t 1 -c "$((CONNECTIONS - 4))" -d "$DURATION" --latency -s "$HERE/status.lua" \
  "$URL/fal-ai/ltx23-video-trainer/requests/$ID/status" | tee "$WORK/mixed-status.txt" | summarize)
wait "$MIXED_SUBMIT_PID"
read -r N_RPS N_P50 N_P99 N_BAD < <(summarize < "$WORK/mixed-submit.txt")

CPU="$(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "Kiln API benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $CPU; wrk -t$THREADS -c$CONNECTIONS -d$DURATION on the same machine; store seeded with $SEEDED queued jobs; auth: ${AUTH:-open}"
echo
echo "| test | requests/s | p50 (ms) | p99 (ms) | non-2xx | target |"
echo "|---|---:|---:|---:|---:|---|"
echo "| status poll (GET …/status) | $S_RPS | $S_P50 | $S_P99 | $S_BAD | >= 5000 req/s, p99 < 20 ms |"
echo "| submit (POST, 10k-job store) | $U_RPS | $U_P50 | $U_P99 | $U_BAD | >= 500 req/s |"
echo "| mixed: status poll ($((CONNECTIONS - 4)) connections) … | $M_RPS | $M_P50 | $M_P99 | $M_BAD | |"
echo "| … while submits arrive (4 connections) | $N_RPS | $N_P50 | $N_P99 | $N_BAD | |"
