#!/usr/bin/env bash
# Dataset pipeline benchmark: a generated 20-clip set (1280x720, 10 s, 25 fps, stereo audio),
# prepared by `kiln dataset prepare` one clip at a time and with default parallelism.
# Prints a markdown table: wall time, clips/s, CPU time (kiln + every ffmpeg it waited for)
# per second of conformed output, and the speed-up over one-at-a-time.
#
# Usage: bench/dataset/run.sh            (KILN=path/to/kiln to use another binary,
#        CLIPS=20 SECONDS_PER_CLIP=10 WORK=/tmp/kiln-bench-dataset to change the set)
set -euo pipefail
cd "$(dirname "$0")/../.."
KILN=${KILN:-.build/debug/kiln}
CLIPS=${CLIPS:-20}
SECONDS_PER_CLIP=${SECONDS_PER_CLIP:-10}
WORK=${WORK:-/tmp/kiln-bench-dataset}
EXTRA=${EXTRA:-}
[ -x "$KILN" ] || swift build --product kiln
mkdir -p "$WORK/src"
sources=(testsrc2 mandelbrot "life=s=1280x720:mold=10:ratio=0.1:death_color=#C83232:life_color=#00ff00" smptehdbars rgbtestsrc)
if [ ! -f "$WORK/set.zip" ] || [ "$(unzip -Z1 "$WORK/set.zip" | grep -c mp4)" != "$CLIPS" ]; then
  rm -rf "$WORK/src" "$WORK/set.zip"; mkdir -p "$WORK/src"
  echo "generating $CLIPS clips of ${SECONDS_PER_CLIP}s at 1280x720 ..." >&2
  for i in $(seq 0 $((CLIPS - 1))); do
    src=${sources[$((i % ${#sources[@]}))]}
    case "$src" in life=*) input="$src:rate=25" ;; *) input="$src=size=1280x720:rate=25" ;; esac
    ffmpeg -hide_banner -loglevel error -y -f lavfi -i "$input" \
      -f lavfi -i "sine=frequency=$((200 + 30 * i)):sample_rate=48000" -t "$SECONDS_PER_CLIP" \
      -vf "hue=h=$((i * 17))" -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -ac 2 \
      "$WORK/src/clip$(printf %02d "$i").mp4"
    echo "clip number $i, a test pattern" > "$WORK/src/clip$(printf %02d "$i").txt"
  done
  (cd "$WORK/src" && zip -q -0 -r "$WORK/set.zip" .)
fi

run() { # label, extra args...
  local label=$1; shift
  rm -rf "$WORK/out-$label"
  /usr/bin/time -f "%e %U %S" -o "$WORK/time-$label" \
    "$KILN" dataset prepare "$WORK/set.zip" --out "$WORK/out-$label" $EXTRA "$@" --json > "$WORK/report-$label.json" 2>/dev/null
  read -r wall user sys < "$WORK/time-$label"
  local samples seconds
  samples=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['totals']['samples'])" "$WORK/report-$label.json")
  seconds=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['totals']['output_seconds'])" "$WORK/report-$label.json")
  echo "$label $wall $user $sys $samples $seconds"
}

cores=$(nproc)
echo "machine: $cores cores, $(ffmpeg -version | head -1 | cut -d' ' -f1-3), kiln: $KILN" >&2
r1=$(run strict1 --jobs 1 --ffmpeg-threads 1)
r2=$(run seq --jobs 1)
r3=$(run parallel)
python3 - "$CLIPS" "$r1" "$r2" "$r3" <<'PY'
import sys
clips = int(sys.argv[1])
rows = [r.split() for r in sys.argv[2:]]
names = {"strict1": "one at a time, 1 ffmpeg thread", "seq": "one at a time (--jobs 1)", "parallel": "parallel (default --jobs)"}
base = {r[0]: float(r[1]) for r in rows}
print("| mode | wall s | clips/s | samples | output s | CPU s | CPU s per output s | speed-up vs --jobs 1 | vs 1 thread |")
print("|---|---|---|---|---|---|---|---|---|")
for label, wall, user, sys_, samples, seconds in rows:
    wall = float(wall); cpu = float(user) + float(sys_); out = float(seconds)
    print(f"| {names[label]} | {wall:.1f} | {clips / wall:.2f} | {samples} | {out:.1f} | {cpu:.1f} | {cpu / out:.3f} | "
          f"{base['seq'] / wall:.2f}x | {base['strict1'] / wall:.2f}x |")
PY
