#!/usr/bin/env bash
# `make demo`: train a LoRA on the tiny model end to end, through a real `kiln serve` and the
# real fal_client, in a few minutes on a laptop CPU.
#
# 1. makes a small sample dataset with ffmpeg (clips with audio + captions, zipped),
# 2. starts `kiln serve --model tiny --port 0` over a throw-away data folder, with TLS from a
#    throw-away self-signed certificate for 127.0.0.1 and an API key,
# 3. runs scripts/demo_client.py: upload, fal_client.submit with FAL_QUEUE_RUN_HOST pointing at
#    the server, live status and logs, download of the four outputs into demo-output/,
# 4. stops the server (also on Ctrl-C or failure).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
KILN="${KILN:-$ROOT/.build/debug/kiln}"
PY="${PY:-$ROOT/.venv/bin/python}"
OUT="${DEMO_OUTPUT:-$ROOT/demo-output}"
STEPS="${DEMO_STEPS:-100}"

for tool in ffmpeg openssl zip; do
    command -v "$tool" >/dev/null || { echo "demo: $tool is not installed (apt-get install $tool)" >&2; exit 1; }
done
[ -x "$KILN" ] || { echo "demo: $KILN not found; run 'make setup' first" >&2; exit 1; }
[ -x "$PY" ] || { echo "demo: $PY not found; run 'make setup' first" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kiln-demo.XXXXXX")"
SERVER_PID=""
cleanup() {
    local status=$?
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    if [ $status -ne 0 ] && [ -f "$WORK/server.log" ]; then
        echo "---- last lines of the server log ($WORK/server.log) ----" >&2
        tail -n 30 "$WORK/server.log" >&2 || true
    else
        rm -rf "$WORK"
    fi
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> making a sample dataset in $WORK/dataset"
mkdir -p "$WORK/dataset"
i=0
for source in testsrc2 smptebars rgbtestsrc; do
    name=$(printf 'clip%02d' "$i")
    ffmpeg -hide_banner -loglevel error -y \
        -f lavfi -i "$source=size=320x320:rate=25:duration=1" \
        -f lavfi -i "sine=frequency=$((330 + 110 * i)):sample_rate=44100:duration=1" \
        -c:v libx264 -pix_fmt yuv420p -c:a aac -ac 2 -shortest "$WORK/dataset/$name.mp4"
    echo "a colourful $source test pattern with a steady $((330 + 110 * i)) Hz tone" > "$WORK/dataset/$name.txt"
    i=$((i + 1))
done
(cd "$WORK/dataset" && zip -q -r -X "$WORK/sample.zip" .)
echo "    $(ls "$WORK/dataset" | wc -l) files -> $WORK/sample.zip ($(stat -c %s "$WORK/sample.zip") bytes)"

echo "==> throw-away TLS certificate and API key"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
DATA="$WORK/data"
KEY_LINE="$("$KILN" keys create --data-dir "$DATA" --name demo 2>/dev/null | head -n 1)"
[ -n "$KEY_LINE" ] || { echo "demo: could not create an API key" >&2; exit 1; }

echo "==> starting kiln serve --model tiny --port 0"
SERVE_ARGS=(serve --port 0 --data-dir "$DATA" --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem")
WORKER_ARGS=(--model tiny --device cpu --validation-steps 4 --checkpoint-interval 50 --allow-private-urls)
"$KILN" "${SERVE_ARGS[@]}" "${WORKER_ARGS[@]}" >"$WORK/server.out" 2>"$WORK/server.log" &
SERVER_PID=$!
URL=""
for _ in $(seq 1 300); do
    URL="$(sed -n 's/^Kiln listening on //p' "$WORK/server.out" | head -n 1)"
    [ -n "$URL" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "demo: kiln serve exited early" >&2; exit 1; }
    sleep 0.1
done
[ -n "$URL" ] || { echo "demo: kiln serve did not report its address" >&2; exit 1; }
echo "    $URL (log: $WORK/server.log)"

echo "==> training through fal_client (FAL_QUEUE_RUN_HOST=${URL#https://})"
rm -rf "$OUT"
FAL_KEY="$KEY_LINE" FAL_QUEUE_RUN_HOST="${URL#https://}" SSL_CERT_FILE="$WORK/cert.pem" \
    "$PY" "$ROOT/scripts/demo_client.py" --zip "$WORK/sample.zip" --out "$OUT" --steps "$STEPS"

echo "==> outputs in $OUT"
ls -l "$OUT"
